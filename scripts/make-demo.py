#!/usr/bin/env python3
"""Writes the demo messages of fixtures/demo/ (deterministic; run again after editing).

Realistic letters to a city hall's general mailbox, made up for the demo: plain mail to each
department, Polish charsets (ISO-8859-2, windows-1250), PDF and ZIP attachments, a forwarded
letter, and one broken message that ends in quarantine. No real person's data.
"""
import email.charset, email.policy, io, zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
OUT.mkdir(parents=True, exist_ok=True)
POLICY = email.policy.SMTP.clone(max_line_length=76)

def pdf(text):
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO(); out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"); offs = []
    for i, o in enumerate(objs, 1):
        offs.append(out.tell()); out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    x = out.tell(); out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs: out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x))
    return out.getvalue()

def base(n, sender, to, subject, when, text, charset="utf-8"):
    m = EmailMessage(policy=POLICY)
    m["Received"] = f"from mx.example.pl by mail.um.gliwice.pl; {format_datetime(when)}"
    m["From"] = sender; m["To"] = to; m["Subject"] = subject
    m["Date"] = format_datetime(when - timedelta(seconds=40))
    m["Message-ID"] = f"<demo-{n}@poczta.example.pl>"
    m.set_content(text, charset=charset, cte="quoted-printable" if charset != "utf-8" else "8bit")
    return m

def save(name, m):
    # Fixed boundaries, so the files are the same on every run.
    for i, part in enumerate(m.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_demo_{name[:2]}_{i}")
    (OUT / name).write_bytes(m.as_bytes(policy=POLICY))

t = datetime(2020, 4, 20, 8, 5, tzinfo=timezone.utc)
m = base(1, "Jan Kowalski <jan.kowalski@example.pl>", "komunikacja@um.gliwice.pl",
         "Rejestracja pojazdu", t, "Dzień dobry,\nw załączeniu wniosek o rejestrację pojazdu.\nJan Kowalski\n")
m.add_attachment(pdf("Wniosek o rejestracje pojazdu"), maintype="application", subtype="pdf", filename="wniosek-rejestracja.pdf")
save("01-rejestracja-pojazdu.eml", m)

m = base(2, "Anna Wiśniewska <anna.w@example.pl>", "um@um.gliwice.pl", "Utrata dowodu osobistego",
         t + timedelta(minutes=17), "Zgłaszam utratę dowodu osobistego. Proszę o informację, jak złożyć wniosek o nowy dowód.\nAnna Wiśniewska\n",
         charset="iso-8859-2")
save("02-utrata-dowodu-iso-8859-2.eml", m)

m = base(3, "Piotr Żak <piotr.zak@example.pl>", "um@um.gliwice.pl", "Odpis aktu urodzenia",
         t + timedelta(hours=1, minutes=3), "Proszę o wydanie odpisu skróconego aktu urodzenia córki.\nPiotr Żak\n",
         charset="windows-1250")
m.add_attachment(pdf("Wniosek o odpis aktu urodzenia"), maintype="application", subtype="octet-stream", filename="wniosek o odpis aktu.pdf")
save("03-odpis-aktu-windows-1250.eml", m)

m = base(4, "Stowarzyszenie Przejrzysta Gmina <biuro@przejrzysta.example.org>", "informacja@um.gliwice.pl",
         "Wniosek o udostępnienie informacji publicznej", t + timedelta(hours=2),
         "Na podstawie ustawy o dostępie do informacji publicznej wnosimy o udostępnienie rejestru umów za 2019 r.\n")
save("04-informacja-publiczna.eml", m)

m = base(5, "Krzysztof Nowak <k.nowak@example.pl>", "um@um.gliwice.pl", "Dokumenty do zameldowania",
         t + timedelta(hours=3, minutes=12), "W załączeniu spakowane dokumenty do zameldowania na pobyt stały.\n")
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("zgloszenie-pobytu-stalego.pdf", pdf("Zgloszenie pobytu stalego"))
    zf.writestr("umowa-najmu.pdf", pdf("Umowa najmu"))
m.add_attachment(z.getvalue(), maintype="application", subtype="zip", filename="dokumenty.zip")
save("05-zameldowanie-zip.eml", m)

inner = base(60, "Zofia Lewandowska <zofia@example.pl>", "zofia.biuro@example.pl", "Zgon ojca - akt zgonu",
             t - timedelta(days=2), "Proszę o przekazanie do USC zgłoszenia zgonu.\n")
inner.add_attachment(pdf("Karta zgonu"), maintype="application", subtype="pdf", filename="karta-zgonu.pdf")
m = base(6, "Biuro Rachunkowe <biuro@example.pl>", "um@um.gliwice.pl", "Fwd: Zgon ojca - akt zgonu",
         t + timedelta(hours=5), "Przesyłam dalej wiadomość klientki.\n")
m.add_attachment(inner)
save("06-przekazana-wiadomosc.eml", m)

m = base(7, "Ewa Kamińska <ewa.k@example.pl>", "um@um.gliwice.pl", "Pytanie o godziny pracy",
         t + timedelta(days=1), "W jakich godzinach czynny jest urząd w soboty?\n")
save("07-pytanie.eml", m)

broken = (b"Received: from mx.example.pl by mail.um.gliwice.pl; " + format_datetime(t + timedelta(days=1, hours=2)).encode() +
          b"\r\nFrom: skaner@example.pl\r\nTo: um@um.gliwice.pl\r\nSubject: skan\r\nMessage-ID: <demo-8@example.pl>\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n--XYZ\r\n"
          b"Content-Type: application/pdf; name=\"skan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJeLjz9MK\r\nMSAwIG9i")
(OUT / "08-ucieta-wiadomosc.eml").write_bytes(broken)
print(f"wrote {len(list(OUT.glob('*.eml')))} messages to {OUT}")

# Signed letters (fixtures/demo-signed/): the test PKI's samples, so that `serve --demo` (which
# validates against the test PKI) shows every verdict: qualified, podpis zaufany, podpis osobisty,
# revoked, changed after signing, and a detached XAdES pair. Kept apart from fixtures/demo, whose
# eight plain letters the tests count.
SIGNED = OUT.parent / "demo-signed"
SIGNED.mkdir(parents=True, exist_ok=True)
SAMPLES = OUT.parent / "pki" / "samples"
XADES = OUT.parent / "signed" / "xades"

def save_signed(name, m):
    for i, part in enumerate(m.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_demo_s{name[:2]}_{i}")
    (SIGNED / name).write_bytes(m.as_bytes(policy=POLICY))

def xml_attachment(m, data, filename):
    m.add_attachment(data, maintype="application", subtype="xml", filename=filename)

ts = datetime(2020, 4, 22, 7, 30, tzinfo=timezone.utc)
m = base(11, "Marek Zieliński <marek.z@example.pl>", "komunikacja@um.gliwice.pl",
         "Wniosek o rejestrację pojazdu (podpis kwalifikowany)", ts,
         "W załączeniu wniosek podpisany podpisem kwalifikowanym.\n")
xml_attachment(m, (SAMPLES / "qes.xml").read_bytes(), "wniosek-rejestracja.xml")
save_signed("11-kwalifikowany.eml", m)

m = base(12, "Anna Testowa <anna.t@example.pl>", "um@um.gliwice.pl",
         "Wniosek o wydanie dowodu osobistego (profil zaufany)", ts + timedelta(minutes=25),
         "Wniosek podpisany profilem zaufanym w załączeniu.\n")
xml_attachment(m, (SAMPLES / "podpis-zaufany.xml").read_bytes(), "wniosek-dowod.xml")
save_signed("12-podpis-zaufany.eml", m)

m = base(13, "Tomasz Nowicki <t.nowicki@example.pl>", "usc@um.gliwice.pl",
         "Odpis aktu małżeństwa (podpis osobisty)", ts + timedelta(hours=1),
         "Proszę o odpis zupełny aktu małżeństwa. Podpisałem e-dowodem.\n")
xml_attachment(m, (SAMPLES / "podpis-osobisty.xml").read_bytes(), "wniosek-odpis.xml")
save_signed("13-podpis-osobisty.eml", m)

# Arrives after the signer's certificate was revoked (2024-06-01), with no proof the signature
# existed before: REVOKED_NO_POE.
m = base(14, "Karol Wróbel <karol.w@example.pl>", "komunikacja@um.gliwice.pl",
         "Zgłoszenie zbycia pojazdu", datetime(2024, 9, 12, 9, 15, tzinfo=timezone.utc),
         "Zgłaszam zbycie pojazdu. Podpis w załączniku.\n")
xml_attachment(m, (SAMPLES / "revoked.xml").read_bytes(), "zgloszenie-zbycia.xml")
save_signed("14-certyfikat-uniewazniony.eml", m)

changed = (SAMPLES / "qes.xml").read_bytes().replace(b"</", b" (zmienione)</", 1)
m = base(15, "Jan Testowy <jan.t@example.pl>", "um@um.gliwice.pl",
         "Wniosek o zameldowanie", ts + timedelta(hours=3),
         "Przesyłam wniosek o zameldowanie.\n")
xml_attachment(m, changed, "wniosek-zameldowanie.xml")
save_signed("15-zmieniony-po-podpisaniu.eml", m)

m = base(16, "Barbara Lis <b.lis@example.pl>", "um@um.gliwice.pl",
         "Wniosek o udostępnienie informacji publicznej (XAdES zewnętrzny)", ts + timedelta(hours=4),
         "Wniosek w PDF i podpis w osobnym pliku .XAdES.\n")
m.add_attachment((XADES / "wniosek.pdf").read_bytes(), maintype="application", subtype="pdf", filename="wniosek.pdf")
m.add_attachment((XADES / "wniosek.pdf.XAdES").read_bytes(), maintype="application", subtype="octet-stream", filename="wniosek.pdf.XAdES")
save_signed("16-para-xades.eml", m)
print(f"wrote {len(list(SIGNED.glob('*.eml')))} signed messages to {SIGNED}")
