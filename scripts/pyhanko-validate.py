#!/usr/bin/env python3
"""The peer verifier of the PDF differential test and benchmark: pyHanko (scripts/lib/setup.sh
installs a pinned version into a venv) validates every signature and document time-stamp of
each PDF given, in this one Python process, without trust roots (integrity, coverage and the
diff analysis are what is compared; trust is not).

Prints one JSON object per file on stdout:
  {"file": ..., "seconds": ..., "bytes": ..., "error": null | "...",
   "signatures": [{"field": ..., "timestamp": bool, "intact": bool, "valid": bool,
                   "coverage": "ENTIRE_FILE" | "ENTIRE_REVISION" | ..., "modification":
                   "NONE" | "LTA_UPDATES" | "FORM_FILLING" | "ANNOTATIONS" | "OTHER" | null,
                   "docmdp_ok": bool | null}]}
Usage: pyhanko-validate.py FILE...   (or `--repeat N FILE` to time N validations of one file)
"""

import json
import logging
import sys
import time

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

logging.disable(logging.CRITICAL)


def name(x):
    return None if x is None else getattr(x, "name", str(x))


def validate(path):
    started = time.perf_counter()
    out = {"file": path, "signatures": [], "error": None}
    try:
        with open(path, "rb") as f:
            data = f.read()
        out["bytes"] = len(data)
        import io

        reader = PdfFileReader(io.BytesIO(data), strict=False)
        vc = ValidationContext(trust_roots=[], allow_fetching=False)
        for sig in reader.embedded_signatures:
            entry = {"field": sig.field_name}
            try:
                is_ts = (
                    sig.sig_object_type == "/DocTimeStamp"
                    or sig.sig_object.get("/SubFilter") == "/ETSI.RFC3161"
                )
                entry["timestamp"] = is_ts
                if is_ts:
                    st = validate_pdf_timestamp(sig, validation_context=vc)
                else:
                    st = validate_pdf_signature(sig, vc, vc)
                entry.update(
                    intact=bool(st.intact),
                    valid=bool(st.valid),
                    coverage=name(st.coverage),
                    modification=name(st.modification_level),
                    docmdp_ok=st.docmdp_ok,
                )
            except Exception as e:  # noqa: BLE001 - the peer's verdict on a hostile file
                entry.update(intact=False, valid=False, error=f"{type(e).__name__}: {e}")
            out["signatures"].append(entry)
    except Exception as e:  # noqa: BLE001
        out["error"] = f"{type(e).__name__}: {e}"
    out["seconds"] = time.perf_counter() - started
    return out


def main(argv):
    if argv[:1] == ["--repeat"]:
        n, path = int(argv[1]), argv[2]
        runs = [validate(path) for _ in range(n)]
        best = sorted(r["seconds"] for r in runs)
        runs[0]["median_seconds"] = best[len(best) // 2]
        print(json.dumps(runs[0]))
        return
    for path in argv:
        print(json.dumps(validate(path)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
