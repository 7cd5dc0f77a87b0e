# Sourced by scripts/test.sh (after setup.sh, which defines log and free_port): installs and starts
# the mail servers the mailbox and outbox tests talk to, each on loopback ports of its own under
# $WORK, and exports where they are. Adds the Dovecot master's and the sink's pids to STARTED_PIDS
# (common.sh stops exactly those).
#
# - Dovecot (IMAP): implicit TLS and STARTTLS, any user name with the password in
#   $PODAWCZA_TEST_IMAP_PASSWORD (static passdb and userdb), so each test takes a user of its own
#   and loads its mail with `doveadm -c $PODAWCZA_TEST_DOVECOT_CONF save -u USER`.
# - aiosmtpd (scripts/smtp-sink.py): STARTTLS and implicit TLS with AUTH; every message's exact
#   DATA bytes go to a file in $PODAWCZA_TEST_SMTP_DIR. Tests that stop a server start their own
#   sink or Dovecot from the same script, certificate and config.

mail_apt=()
command -v dovecot >/dev/null || mail_apt+=(dovecot-imapd)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || mail_apt+=(python3-aiosmtpd)
if ((${#mail_apt[@]})); then
    log "installing ${mail_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${mail_apt[@]}" >/dev/null
fi

log "starting Dovecot and the SMTP sink"
MAILDIR_ROOT="$WORK/mail"
mkdir -p "$MAILDIR_ROOT/tls" "$MAILDIR_ROOT/homes" "$MAILDIR_ROOT/run" "$MAILDIR_ROOT/smtp"
TLS="$MAILDIR_ROOT/tls"

# A private CA and a server certificate for localhost and 127.0.0.1 (the CA file is what the
# clients under test trust: certificate checking stays on).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Podawcza test CA" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$TLS/ext.cnf"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 2 -extfile "$TLS/ext.cnf" -out "$TLS/server.pem" 2>/dev/null
chmod 644 "$TLS"/*.pem "$TLS/server.key"
# Mail processes run as nobody, never as root.
chmod 777 "$MAILDIR_ROOT/homes"

IMAP_PORT="$(free_port)"
IMAPS_PORT="$(free_port)"
IMAP_PASSWORD="test-$RANDOM$RANDOM"
DOVECOT_CONF="$MAILDIR_ROOT/dovecot.conf"
cat >"$DOVECOT_CONF" <<CONF
# Throw-away Dovecot for the tests: nothing here reads /etc/dovecot.
base_dir = $MAILDIR_ROOT/run
state_dir = $MAILDIR_ROOT/run/state
log_path = $MAILDIR_ROOT/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$TLS/server.pem
ssl_key = <$TLS/server.key
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=$IMAP_PASSWORD
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$MAILDIR_ROOT/homes/%n allow_all_users=yes
}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
mkdir -p "$MAILDIR_ROOT/run/state"
dovecot -c "$DOVECOT_CONF" -n >/dev/null
dovecot -c "$DOVECOT_CONF"
for _ in $(seq 1 100); do [[ -s "$MAILDIR_ROOT/run/master.pid" ]] && break; sleep 0.1; done
DOVECOT_PID="$(head -1 "$MAILDIR_ROOT/run/master.pid")"
STARTED_PIDS+=("$DOVECOT_PID")
echo "Dovecot pid $DOVECOT_PID on ports $IMAP_PORT (STARTTLS) and $IMAPS_PORT (TLS)"

SMTP_PORT="$(free_port)"
SMTPS_PORT="$(free_port)"
SMTP_PASSWORD="smtp-$RANDOM$RANDOM"
/usr/bin/python3 "$PWD/scripts/smtp-sink.py" --dir "$MAILDIR_ROOT/smtp" --starttls-port "$SMTP_PORT" \
    --tls-port "$SMTPS_PORT" --cert "$TLS/server.pem" --key "$TLS/server.key" \
    --user podawcza --password "$SMTP_PASSWORD" >"$MAILDIR_ROOT/smtp.log" 2>&1 &
SMTP_SINK_PID=$!
STARTED_PIDS+=("$SMTP_SINK_PID")
for _ in $(seq 1 100); do grep -q ready "$MAILDIR_ROOT/smtp.log" && break; sleep 0.1; done
grep -q ready "$MAILDIR_ROOT/smtp.log" || { cat "$MAILDIR_ROOT/smtp.log"; exit 1; }
echo "SMTP sink pid $SMTP_SINK_PID on ports $SMTP_PORT (STARTTLS) and $SMTPS_PORT (TLS)"

export PODAWCZA_TEST_TLS_CA="$TLS/ca.pem"
export PODAWCZA_TEST_TLS_CERT="$TLS/server.pem"
export PODAWCZA_TEST_TLS_KEY="$TLS/server.key"
export PODAWCZA_TEST_DOVECOT_CONF="$DOVECOT_CONF"
export PODAWCZA_TEST_IMAP_HOST=localhost
export PODAWCZA_TEST_IMAP_PORT="$IMAP_PORT"
export PODAWCZA_TEST_IMAPS_PORT="$IMAPS_PORT"
export PODAWCZA_TEST_IMAP_PASSWORD="$IMAP_PASSWORD"
export PODAWCZA_TEST_SMTP_SINK="$PWD/scripts/smtp-sink.py"
# The Debian python3 (where python3-aiosmtpd lives), whatever python3 comes first on PATH.
export PODAWCZA_TEST_PYTHON=/usr/bin/python3
export PODAWCZA_TEST_SMTP_HOST=localhost
export PODAWCZA_TEST_SMTP_PORT="$SMTP_PORT"
export PODAWCZA_TEST_SMTPS_PORT="$SMTPS_PORT"
export PODAWCZA_TEST_SMTP_USER=podawcza
export PODAWCZA_TEST_SMTP_PASSWORD="$SMTP_PASSWORD"
export PODAWCZA_TEST_SMTP_DIR="$MAILDIR_ROOT/smtp"
