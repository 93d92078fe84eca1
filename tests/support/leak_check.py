# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one leak check of the test suites: is any form of any secret in a piece of output?

Every suite (integration, units, emulator) calls this instead of writing its own substring
search, so that what counts as a leak is decided in one place:

- The output is searched with all whitespace removed, so a secret that a display wrapped or
  split (ansible-core 2.16-2.18 wrap warnings at 79 columns and break long words) still matches,
  and so does the JWT pattern.
- Each secret is searched in every form it could take in output: raw, URL-encoded
  (``quote``/``quote_plus``) and JSON-escaped.
- A PEM private key is searched as its body as given (for an encrypted key, the encrypted text),
  and decrypted (with a passphrase found among the other secrets) as PKCS#1 and PKCS#8, PEM
  bodies and single-line DER base64 alike, also in 32-character pieces, so that one leaked line of
  a key re-wrapped at any width is found.
- Anything JWT-shaped (``eyJ...``.``...``) is a leak unless the caller allows it.
- A PEM ``PRIVATE KEY`` header followed by key material is a leak whatever key it holds.

Messages never quote a secret: they name the form and give the length.

Importable as ``ansible_collections.aemops.ims.tests.support.leak_check`` inside the collection
layout, or by file path (the integration conftest loads it that way).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from urllib.parse import quote, quote_plus, unquote

# Anything that looks like a JWT or an IMS token (both are base64url JSON: '{"' -> 'eyJ').
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
# RFC 1421 headers of a legacy encrypted PEM ("Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-...,IV").
PEM_HEADER_LINES = re.compile(r"^(?:Proc-Type:[0-9A-Za-z,]+|DEK-Info:[0-9A-Za-z,-]+)+")
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----(.*?)-----END \1-----", re.DOTALL)
# Whitespace, and the JSON escapes of line breaks and tabs that a JSON dump leaves in the text.
_WHITESPACE = re.compile(r"\s+")
_ESCAPED_BREAKS = re.compile(r"(?:\\[rnt])+")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=]+$")
# Pieces of a key body searched on their own: any leaked run of 2 x PIECE - 1 characters is found.
PIECE = 32
# Key material after a PEM header: this many base64 characters, one of them a digit (DER in base64
# always starts "MII..."; words of a message squeezed together have no digits).
MATERIAL = 40


def compact(text):
    """The text without any whitespace (and without JSON-escaped line breaks)."""
    return _ESCAPED_BREAKS.sub("", _WHITESPACE.sub("", text or ""))


def _views(output):
    """The output as searched: squeezed; and squeezed, JSON-unescaped ('\\/', '\\\\') and URL-decoded."""
    squeezed = compact(output)
    decoded = unquote(squeezed.replace("\\/", "/").replace("\\\\", "\\"))
    return [squeezed] if decoded == squeezed else [squeezed, decoded]


def text_forms(secret):
    """{label: form} of one secret as it could be printed: raw, URL-encoded, JSON-escaped."""
    forms = {
        "raw": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded (plus)": quote_plus(secret, safe=""),
        "json-escaped": json.dumps(secret)[1:-1],
        "json-escaped (ascii)": json.dumps(secret, ensure_ascii=True)[1:-1],
    }
    result = {}
    for label, form in forms.items():
        squeezed = compact(form)
        if squeezed and squeezed not in result.values():
            result[label] = squeezed
    return result


def pem_blocks(text):
    """[(label, whole PEM block)] of every PEM private key in the text (also inside JSON strings)."""
    found = []
    for candidate in (text, text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\/", "/")):
        for match in PEM_BLOCK.finditer(candidate):
            block = match.group(0).replace("\r\n", "\n")
            if block not in [item for _label, item in found]:
                found.append((match.group(1), block))
    return found


def _pem_body(block):
    lines = [line.strip() for line in block.replace("\r\n", "\n").split("\n")]
    return "".join(line for line in lines if line and not line.startswith("-----") and ":" not in line)


@functools.lru_cache(maxsize=256)
def _decrypted_forms(block, passphrase):
    """{label: base64 DER} of a key in PKCS#1 (traditional) and PKCS#8, or None when it cannot be loaded."""
    # cryptography is a dependency of the collection; imported here so that the module loads without it.
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    try:
        key = serialization.load_pem_private_key(block.encode("ascii"), password=passphrase.encode("utf-8") if passphrase else None)
    except (ValueError, TypeError):
        return None
    forms = {}
    for label, fmt in (("pkcs1", serialization.PrivateFormat.TraditionalOpenSSL), ("pkcs8", serialization.PrivateFormat.PKCS8)):
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        forms[label] = base64.b64encode(der).decode("ascii")
    # The public half (modulus, exponent, EC point) is in the private key too, and in the
    # certificate, which is no secret: in base64 at each of the three byte alignments.
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for shift in range(3):
        forms["public %d" % shift] = base64.b64encode(b"\0" * shift + public).decode("ascii")
    return tuple(sorted(forms.items()))


def key_forms(block, passphrases=()):
    """{label: whitespace-free base64} of one PEM private key: as given, and decrypted as PKCS#1 and PKCS#8.

    The DER base64 of a key is its PEM body without line breaks, so one form covers both; the
    URL-safe alphabet is another spelling (URL-encoding is undone on the output instead).
    """
    forms = {"as given": _pem_body(block)}
    for label, value in _decrypted(block, passphrases) or ():
        if not label.startswith("public"):
            forms[label] = value
    for label, value in list(forms.items()):
        forms[label + ", base64url"] = value.replace("+", "-").replace("/", "_").rstrip("=")
    return forms


def needles(secrets):
    """([(description, text)], {window: description}) for every form of every secret.

    The texts are searched as substrings. The windows are every PIECE-character run of every form
    of every PEM private key found in a secret (a key file's text, a credentials document): a key
    leaked in part, or re-wrapped at any width, shares at least one with the output. An encrypted
    key is decrypted with whichever other secret is its passphrase.
    """
    secrets = [secret for secret in secrets if secret]
    passphrases = [secret for secret in secrets if "\n" not in secret and len(secret) < 200]
    texts = []
    windows = {}
    for index, secret in enumerate(secrets):
        for label, form in text_forms(secret).items():
            texts.append(("secret #%d, %s (%d chars)" % (index + 1, label, len(form)), form))
        blocks = pem_blocks(secret)
        # A multi-line secret's lines on their own; a key's are covered by its windows below (its
        # lines also hold the public modulus, which the certificate shows).
        for line in [] if blocks else secret.replace("\\r\\n", "\n").replace("\\n", "\n").splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----") and ":" not in line and line != secret.strip():
                texts.append(("secret #%d, one line (%d chars)" % (index + 1, len(line)), compact(line)))
        for kind, block in blocks:
            public = _public_windows(block, passphrases)
            for label, form in key_forms(block, passphrases).items():
                description = "secret #%d, %s, %s (%d chars)" % (index + 1, kind.lower(), label, len(form))
                for start in range(max(1, len(form) - PIECE + 1)):
                    window = form[start : start + PIECE]
                    if window not in public:
                        windows.setdefault(window, description)
    return texts, windows


def _decrypted(block, passphrases):
    """The key's forms (_decrypted_forms), with the first passphrase that opens it; None if none does."""
    decrypted = _decrypted_forms(block, None)
    for passphrase in passphrases:
        if decrypted is not None:
            break
        decrypted = _decrypted_forms(block, passphrase)
    return decrypted


def _public_windows(block, passphrases):
    """Every PIECE-character run of the key's public half in base64 (both alphabets): printing the
    certificate or the public key is no leak, although the private key holds the same numbers."""
    found = set()
    for label, value in _decrypted(block, passphrases) or ():
        if label.startswith("public"):
            for spelling in (value, value.replace("+", "-").replace("/", "_")):
                found.update(spelling[start : start + PIECE] for start in range(len(spelling) - PIECE + 1))
    return found


_KEY_RUN = re.compile(r"[A-Za-z0-9+/=_-]{%d,}" % PIECE)


def _key_material_in(view, windows):
    """The description of the first key window found in a run of base64 characters of the view.

    The windows start at every offset of each key form, so the run is read at every PIECE-th
    offset only: any leaked stretch of 2 x PIECE - 1 characters holds one such window.
    """
    if not windows:
        return None
    for match in _KEY_RUN.finditer(view):
        run = match.group(0)
        for start in range(0, len(run) - PIECE + 1, PIECE):
            found = windows.get(run[start : start + PIECE])
            if found:
                return found
    return None


def private_key_blocks(view):
    """How many PEM private-key headers (any kind: PKCS#1/SEC1, PKCS#8, encrypted) in a squeezed
    view are followed by key material."""
    count = 0
    for match in re.finditer(r"-----BEGIN(?:[A-Z0-9]+)?PRIVATEKEY-----", view):
        following = PEM_HEADER_LINES.sub("", view[match.end() : match.end() + 400])
        material = following[:MATERIAL]
        if len(material) == MATERIAL and _BASE64.match(material) and re.search(r"[0-9]", material):
            count += 1
    return count


def find_leaks(output, secrets=(), allow_jwt_shaped=False):
    """[description] of every leak in the output; empty when there is none."""
    problems = []
    views = _views(output)
    texts, windows = needles(secrets)
    for description, needle in texts:
        if any(needle in view for view in views):
            problems.append("a secret leaked into the output: %s" % description)
    for view in views:
        found = _key_material_in(view, windows)
        if found:
            problems.append("private key material leaked into the output: %s" % found)
            break
    if not allow_jwt_shaped:
        for view in views:
            match = JWT_PATTERN.search(view)
            if match:
                problems.append("a JWT-shaped value leaked into the output (%d chars, starting %s...)" % (len(match.group(0)), match.group(0)[:6]))
                break
    blocks = max(private_key_blocks(view) for view in views)
    if blocks:
        problems.append("%d PEM private-key header(s) followed by key material in the output" % blocks)
    return problems


def assert_no_leaks(output, *secrets, allow_jwt_shaped=False):
    """Fail with every leak found (never quoting a secret): see find_leaks()."""
    problems = find_leaks(output, secrets, allow_jwt_shaped=allow_jwt_shaped)
    assert not problems, "\n".join(problems)
