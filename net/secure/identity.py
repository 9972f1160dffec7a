"""This installation's key and certificate, and the short code people read aloud.

Each LanChat installation makes one EC P-256 key and a self-signed certificate once,
keeps them in the config directory (the key readable by its owner only) and uses them
for every room it hosts. A room is identified by its host's certificate: the SHA-256 of
the certificate's DER bytes is its fingerprint, and the first 80 bits of it, as five
groups of four hex digits (`7F3A-91C2-4B8D-E01F-2A6C`), are its code. 80 bits keep a
look-alike certificate out of reach of anyone grinding keys on a LAN, and five groups
are still short enough to read over the phone.
"""

from __future__ import annotations

import datetime
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from net.secure import IdentityError
from net.secure.codes import fingerprint_of, room_code
from net.secure.private_files import write_private

log = logging.getLogger(__name__)

KEY_FILE = "identity-key.pem"
CERT_FILE = "identity-cert.pem"
#: The certificate never needs renewing in practice: its key is the room's identity.
_VALIDITY = datetime.timedelta(days=20 * 365)


@dataclass(frozen=True, slots=True)
class Identity:
    """Where this installation's key and certificate are, and the certificate's fingerprint."""

    key_path: Path
    cert_path: Path
    fingerprint: bytes  # SHA-256 of the certificate's DER bytes

    @property
    def code(self) -> str:
        return room_code(self.fingerprint)


def load_or_create_identity(directory: Path, *, name: str = "LanChat") -> Identity:
    """This installation's identity from `directory`, made there first if it has none.

    Raises IdentityError when the files exist but are unreadable or do not belong together
    (never silently replaced: a new key would look like an impostor to every member).
    """
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    if not key_path.exists() and not cert_path.exists():
        _create(directory, key_path, cert_path, name)
    # Loaded with the standard library: `cryptography` (15 MB of memory, 50 ms) only makes keys.
    try:
        der = ssl.PEM_cert_to_DER_cert(cert_path.read_text(encoding="ascii"))
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert_path), str(key_path))
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise IdentityError(
                f"The LanChat key and certificate in {directory} do not belong together."
            ) from exc
        raise _unreadable(directory, exc) from exc
    except (OSError, ValueError) as exc:
        raise _unreadable(directory, exc) from exc
    return Identity(key_path, cert_path, fingerprint_of(der))


def _unreadable(directory: Path, exc: Exception) -> IdentityError:
    return IdentityError(
        f"This computer's LanChat identity in {directory} cannot be read ({exc}); "
        "move those two files away to make a new one (members will be warned of the change)."
    )


def _create(directory: Path, key_path: Path, cert_path: Path, name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64] or "LanChat")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(key_path, key_bytes)
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    log.info(
        "made this computer's LanChat identity (room code %s)",
        room_code(fingerprint_of(cert.public_bytes(serialization.Encoding.DER))),
    )
