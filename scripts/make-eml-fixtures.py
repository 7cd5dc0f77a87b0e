#!/usr/bin/env python3
"""Builds the e-mail fixtures of Podawcza: fixtures/eml/<case>.eml (and the ZIPs inside them).

Python 3.11 standard library and the `openssl` command only. Deterministic: fixed boundaries,
dates and ZIP timestamps; the S/MIME signatures use a throwaway self-signed key kept in
fixtures/eml/smime/ (made once, reused after) and no signed attributes, so RSA PKCS#1 v1.5 gives
the same bytes every run. The expected results (<case>.expected.json) are written by the golden
test: `PODAWCZA_ACCEPT=1 cargo test --test it mime`.

Run from the repository root: python3 scripts/make-eml-fixtures.py
"""

import base64
import hashlib
import io
import quopri
import os
import struct
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "eml"
SMIME = OUT / "smime"
B64_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
ZIP_TIME = (2020, 4, 20, 10, 11, 12)
DATE = "Tue, 21 Apr 2020 09:58:00 +0200"
RECEIVED = (
    "Received: from mx.example.pl (mx.example.pl [192.0.2.7])\r\n"
    "\tby skrzynka.gliwice.eu with ESMTPS id 4A1B2C;\r\n"
    "\tTue, 21 Apr 2020 10:00:05 +0200\r\n"
    "Received: from [10.0.0.2] by mx.example.pl; Tue, 21 Apr 2020 09:59:01 +0200\r\n"
)


# ---------------------------------------------------------------- sample files

def pdf(title: str) -> bytes:
    """A small valid PDF with one page and `title` in its content."""
    content = f"BT /F1 12 Tf 72 720 Td ({title}) Tj ET".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def png() -> bytes:
    """A 2x2 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def tnef() -> bytes:
    """A minimal TNEF stream (winmail.dat): signature, key, one attribute."""
    body = struct.pack("<IH", 0x223E9F78, 0x0001)
    body += b"\x01" + struct.pack("<I", 0x00089006) + struct.pack("<I", 4) + b"\x00\x00\x01\x00"
    return body + struct.pack("<H", 1)


XML = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       '<wnio:Dokument xmlns:wnio="http://crd.gov.pl/xml/schematy/wnioski/">'
       '<wnio:Tytul>Wniosek o wydanie zaświadczenia</wnio:Tytul></wnio:Dokument>\n').encode()


# ---------------------------------------------------------------- ZIPs

def zip_bytes(entries, *, cp852=False) -> bytes:
    """A deflated ZIP of (name, bytes) entries. With `cp852`, names are written in CP852 without
    the UTF-8 flag, as Polish DOS and old Windows tools did: zipfile would flag them UTF-8, so
    they go in as ASCII placeholders of the same length, replaced in the finished bytes."""
    buf = io.BytesIO()
    swaps = {}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, data) in enumerate(entries):
            if cp852:
                raw = name.encode("cp852")
                placeholder = (f"@{i:02d}@" + "x" * len(raw))[: len(raw)]
                swaps[placeholder.encode()] = raw
                name = placeholder
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            z.writestr(info, data)
    out = buf.getvalue()
    for placeholder, raw in swaps.items():
        assert out.count(placeholder) == 2, placeholder  # local header and central directory
        out = out.replace(placeholder, raw)
    return out


def zip_bomb() -> bytes:
    """200 MB of zeros deflated into about 200 KB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("zera.bin", ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(200):
                f.write(block)
    return buf.getvalue()


def zip_crc_broken() -> bytes:
    """Two entries; the first one's data damaged (CRC mismatch), the second intact."""
    good = zip_bytes([("uszkodzony.txt", b"A" * 64 + b" tekst " * 40), ("dobry.txt", b"czytelny\n")])
    start = good.index(b"uszkodzony.txt") + len("uszkodzony.txt")
    damaged = bytearray(good)
    damaged[start + 3] ^= 0xFF
    return bytes(damaged)


def zip_encrypted_flag() -> bytes:
    """A ZIP whose only entry claims to be encrypted (general purpose bit 0)."""
    data = bytearray(zip_bytes([("tajne.pdf", pdf("tajne"))]))
    data[6] |= 0x01  # local header flags
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01  # central directory flags
    return bytes(data)


# ---------------------------------------------------------------- MIME helpers (all bytes)

def b64(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + b"\r\n"


def q_word(text: str, charset: str) -> str:
    """An RFC 2047 Q encoded-word."""
    out = ""
    for ch in text:
        if ch == " ":
            out += "_"
        elif ch.isascii() and ch.isalnum():
            out += ch
        else:
            out += "".join("=%02X" % b for b in ch.encode(charset))
    return f"=?{charset}?Q?{out}?="


def head(subject: str, msg_id: str, *, frm="Jan Kowalski <jan.kowalski@example.pl>") -> bytes:
    return (RECEIVED + f"Message-ID: <{msg_id}>\r\nDate: {DATE}\r\nFrom: {frm}\r\n"
            "To: =?utf-8?Q?Urz=C4=85d_Miejski?= <bp@gliwice.eu>\r\nCc: kancelaria@gliwice.eu\r\n"
            f"Subject: {subject}\r\nMIME-Version: 1.0\r\n").encode()


def part(ctype: str, body: bytes, *, disposition=None, encoding="base64", extra="") -> bytes:
    lines = f"Content-Type: {ctype}\r\n"
    if disposition:
        lines += f"Content-Disposition: {disposition}\r\n"
    lines += extra
    if encoding == "base64":
        return (lines + "Content-Transfer-Encoding: base64\r\n\r\n").encode() + b64(body)
    lines += f"Content-Transfer-Encoding: {encoding}\r\n\r\n" if encoding else "\r\n"
    return lines.encode() + body + (b"" if body.endswith(b"\r\n") else b"\r\n")


def multipart(subtype: str, boundary: str, parts, *, params="") -> bytes:
    out = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"{params}\r\n\r\n".encode()
    out += b"This is a multi-part message in MIME format.\r\n"
    for p in parts:
        out += f"--{boundary}\r\n".encode() + p
    return out + f"--{boundary}--\r\n".encode()


def plain(text: str, charset="utf-8", encoding="8bit") -> bytes:
    body = text.replace("\n", "\r\n").encode(charset)
    if encoding == "quoted-printable":
        body = quopri.encodestring(body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return part(f"text/plain; charset={charset}", body, encoding=encoding)


def message(h: bytes, body: bytes) -> bytes:
    return h + body


# ---------------------------------------------------------------- S/MIME

def openssl(*args, data=None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def smime_key():
    SMIME.mkdir(parents=True, exist_ok=True)
    key, cert = SMIME / "key.pem", SMIME / "cert.pem"
    if not key.exists() or not cert.exists():
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                "-out", str(cert), "-days", "36500", "-subj",
                "/C=PL/CN=Jan Kowalski (test, throwaway)/emailAddress=jan.kowalski@example.pl")
    return key, cert


def cms_sign(content: bytes, detached: bool) -> bytes:
    key, cert = smime_key()
    with tempfile.NamedTemporaryFile() as f:
        f.write(content)
        f.flush()
        args = ["cms", "-sign", "-binary", "-noattr", "-md", "sha256", "-outform", "DER",
                "-signer", str(cert), "-inkey", str(key), "-in", f.name]
        if not detached:
            args.append("-nodetach")
        return openssl(*args)


# ---------------------------------------------------------------- the cases

def cases():
    c = {}
    w1250 = "Wniosek o wydanie dowodu osobistego"
    c["iso-8859-2-plain"] = message(
        head("=?ISO-8859-2?B?" + base64.b64encode("Prośba o zaświadczenie".encode("iso-8859-2")).decode() + "?=",
             "iso88592@example.pl", frm="=?iso-8859-2?Q?Gra=BFyna_=A3=F3dzka?= <grazyna@example.pl>"),
        plain("Dzień dobry,\nproszę o wydanie zaświadczenia o zameldowaniu.\nZażółć gęślą jaźń.\n",
              "iso-8859-2", "quoted-printable"))
    c["windows-1250-rfc2231"] = message(
        head(q_word(w1250 + " – Śląsk", "windows-1250"), "w1250@example.pl"),
        multipart("mixed", "=_w1250", [
            plain("Przesyłam wniosek. Łódź, źdźbło.\n", "windows-1250", "8bit"),
            part("application/pdf", pdf("wniosek"), disposition=(
                "attachment;\r\n filename*0*=windows-1250''Wniosek%20o%20wydanie%20dowodu%20;\r\n"
                " filename*1*=osobistego%20%9Cl%B9sk.pdf")),
        ]))
    rfc2047_name = "=?UTF-8?B?" + base64.b64encode("Wniosek – załącznik nr 1.pdf".encode()).decode() + "?="
    c["alternative-rfc2047-names"] = message(
        head("Wniosek z podpisem CAdES", "alternative@example.pl"),
        multipart("mixed", "b-mixed", [
            multipart("alternative", "b-alt", [
                plain("Dzień dobry,\nw załączeniu wniosek podpisany kwalifikowanym podpisem.\n",
                      "iso-8859-2", "quoted-printable"),
                part("text/html; charset=utf-8",
                     "<p>Dzień dobry,<br>w załączeniu <b>wniosek</b>.</p>".encode(), encoding="8bit"),
            ]),
            part(f"application/pdf; name=\"{rfc2047_name}\"", pdf("zalacznik"),
                 disposition=f"attachment; filename=\"{rfc2047_name}\""),
            part("application/pkcs7-signature; name=\"wniosek.pdf.p7s\"", cms_sign(pdf("zalacznik"), True),
                 disposition="attachment; filename=\"wniosek.pdf.p7s\""),
            part("text/plain; charset=iso-8859-2", "Oświadczenie: mieszkam w Gliwicach.\r\n".encode("iso-8859-2"),
                 disposition="attachment; filename=\"oświadczenie.txt\"",
                 encoding="8bit"),
        ]))
    c["attachment-without-disposition"] = message(
        head("Skan wniosku", "nodisp@example.pl"),
        multipart("mixed", "b-nodisp", [
            plain("W załączeniu skan i dane.\n"),
            part("application/pdf; name=\"skan wniosku.pdf\"", pdf("skan")),
            part("application/xml; charset=UTF-8", XML),
        ]))
    c["inline-image"] = message(
        head("Zdjęcie do dowodu", "inline@example.pl"),
        multipart("related", "b-rel", [
            part("text/html; charset=utf-8",
                 "<html><body><p>Moje zdjęcie:</p><img src=\"cid:foto@x\"></body></html>".encode(),
                 encoding="8bit"),
            part("image/png", png(), disposition="inline; filename=\"zdjęcie.png\"",
                 extra="Content-ID: <foto@x>\r\n"),
        ], params="; type=\"text/html\""))
    c["octet-stream-pdf"] = message(
        head("Dokument", "octet@example.pl"),
        multipart("mixed", "b-octet", [
            plain("Dokument w załączniku.\n"),
            part("application/octet-stream; name=\"dokument\"", pdf("dokument"),
                 disposition="attachment; filename=\"dokument\""),
            part("application/octet-stream", pdf("bez nazwy")),
        ]))
    inner = (head("wniosek", "inner@example.pl", frm="Anna Nowak <anna@example.pl>")
             + multipart("mixed", "b-inner", [
                 plain("Wniosek Anny w załączniku.\n"),
                 part("application/pdf", pdf("wniosek Anny"), disposition="attachment; filename=\"wniosek.pdf\""),
             ]))
    middle = (head("Fwd: wniosek", "middle@example.pl", frm="Piotr Nowak <piotr@example.pl>")
              + multipart("mixed", "b-middle", [
                  plain("Przekazuję wniosek żony.\n"),
                  part("message/rfc822", inner, encoding=None),
              ]))
    c["forwarded-twice"] = message(
        head("Fwd: Fwd: wniosek", "outer@example.pl", frm="Sekretariat <sekretariat@example.pl>"),
        multipart("mixed", "b-outer", [
            plain("Przesyłam do rejestracji.\n"),
            part("message/rfc822", middle, encoding=None, disposition="inline"),
        ]))
    c["zip-cp852-names"] = message(
        head("Skany (stary ZIP)", "cp852@example.pl"),
        multipart("mixed", "b-cp852", [
            plain("Skany w archiwum.\n"),
            part("application/zip", zip_bytes(
                [("Zaświadczenie ŁÓDŹ ąę.pdf", pdf("zaswiadczenie")),
                 ("Skany żółć/oświadczenie.txt", "Oświadczam, że...\r\n".encode("cp852"))],
                cp852=True),
                 disposition="attachment; filename=\"skany.zip\""),
        ]))
    c["zip-utf8-names"] = message(
        head("Skany", "utf8zip@example.pl"),
        multipart("mixed", "b-utf8", [
            plain("Skany w archiwum.\n"),
            part("application/zip", zip_bytes(
                [("Zaświadczenie – Łódź.pdf", pdf("zaswiadczenie")),
                 ("katalog/", b""),
                 ("katalog/zdjęcie.png", png())]),
                 disposition="attachment; filename=\"załączniki.zip\""),
        ]))
    inner_zip = zip_bytes([("wniosek.pdf", pdf("w zip")), ("opis.txt", b"opis\n")])
    c["zip-nested"] = message(
        head("Archiwum w archiwum", "nested@example.pl"),
        multipart("mixed", "b-nested", [
            plain("Archiwum.\n"),
            part("application/zip", zip_bytes([("wewnetrzne.zip", inner_zip), ("lista.txt", b"lista\n")]),
                 disposition="attachment; filename=\"zewnetrzne.zip\""),
        ]))
    whole = zip_bytes([("a.pdf", pdf("a")), ("b.pdf", pdf("b"))])
    c["zip-corrupt"] = message(
        head("Uszkodzone archiwa", "corrupt@example.pl"),
        multipart("mixed", "b-corrupt", [
            plain("Trzy archiwa.\n"),
            part("application/zip", whole[: len(whole) * 2 // 3], disposition="attachment; filename=\"uciete.zip\""),
            part("application/zip", zip_crc_broken(), disposition="attachment; filename=\"crc.zip\""),
            part("application/zip", zip_encrypted_flag(), disposition="attachment; filename=\"haslo.zip\""),
        ]))
    c["zip-bomb"] = message(
        head("Bomba", "bomb@example.pl"),
        multipart("mixed", "b-bomb", [
            plain("Archiwum.\n"),
            part("application/zip", zip_bomb(), disposition="attachment; filename=\"bomba.zip\""),
        ]))
    signed_content = multipart("mixed", "b-signed-inner", [
        plain("Podpisany wniosek w załączniku.\n"),
        part("application/pdf", pdf("podpisany"), disposition="attachment; filename=\"wniosek.pdf\""),
    ])
    # RFC 1847 §2.1 / RFC 2046 §5.1.1: the CRLF before the boundary belongs to the delimiter, so
    # the signed entity ends before it.
    c["smime-signed"] = message(
        head("Wniosek podpisany S/MIME", "smime@example.pl"),
        b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;"
        b" boundary=\"b-signed\"\r\n\r\nThis is an S/MIME signed message\r\n--b-signed\r\n"
        + signed_content + b"--b-signed\r\n"
        + part("application/pkcs7-signature; name=\"smime.p7s\"", cms_sign(signed_content[:-2], True),
               disposition="attachment; filename=\"smime.p7s\"")
        + b"--b-signed--\r\n")
    enveloped = b"Content-Type: text/plain; charset=utf-8\r\n\r\nWniosek w kopercie S/MIME.\r\n"
    c["pkcs7-mime"] = message(
        head("Wniosek p7m", "p7m@example.pl"),
        part("application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\"", cms_sign(enveloped, False),
             disposition="attachment; filename=\"smime.p7m\""))
    c["winmail-dat"] = message(
        head("Wniosek z Outlooka", "tnef@example.pl"),
        multipart("mixed", "b-tnef", [
            plain("Wniosek w załączniku.\n"),
            part("application/ms-tnef; name=\"winmail.dat\"", tnef(), disposition="attachment; filename=\"winmail.dat\""),
        ]))
    c["html-only"] = message(
        head("Tylko HTML", "html@example.pl"),
        part("text/html; charset=windows-1250",
             "<html><head><style>p{color:red}</style></head><body><p>Dzień dobry,</p><p>proszę o <b>zaświadczenie</b>.</p></body></html>"
             .encode("windows-1250"), encoding="8bit"))
    garbage = b""
    seed = b"podawcza"
    while len(garbage) < 2048:
        seed = hashlib.sha256(seed).digest()
        garbage += seed
    c["garbage"] = b"\x00\x01" + garbage
    full = head("Ucięta", "cut@example.pl") + multipart("mixed", "b-cut", [
        plain("Pierwsza część.\n"),
        plain("Druga część, która się urywa w połowie zdania i nigdy nie kończy\n"),
    ])
    c["truncated-multipart"] = full[: full.index(b"w po\xc5\x82owie")]
    whole_b64 = (head("Ucięty base64", "cutb64@example.pl")
                 + part("application/pdf; name=\"wniosek.pdf\"", pdf("uciety")))
    body_at = whole_b64.index(b"\r\n\r\n") + 4
    cut = len(whole_b64) - 100
    while sum(ch in B64_ALPHABET for ch in whole_b64[body_at:cut]) % 4 == 0:
        cut -= 1
    c["truncated-base64"] = whole_b64[:cut]
    for tag in ("a", "b"):
        c[f"duplicate-{tag}"] = message(
            head("Ten sam wniosek", "duplikat@example.pl"), plain(f"Wysyłka {tag}.\n"))
    return c


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, raw in sorted(cases().items()):
        (OUT / f"{name}.eml").write_bytes(raw)
        print(f"{name}.eml {len(raw)} bytes")


if __name__ == "__main__":
    main()
