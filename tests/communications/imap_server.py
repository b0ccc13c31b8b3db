"""A real IMAP server for the tests: Debian's Dovecot on loopback ports, TLS only
(implicit TLS on one port, STARTTLS required on the other).

Started in the foreground with a throw-away configuration, certificate and mail store
under a temporary directory, and stopped with its process. Tests that need it are
skipped with the reason when Dovecot is not installed (`apt-get install dovecot-imapd`)
or will not start.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "harken-test"
PASSWORD = "imap-test-password"  # a throw-away server's password


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    starttls_port: int
    user: str
    password: str
    ca_file: str

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        client = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def folder_uids(self, folder: str, *criteria: str) -> list[bytes]:
        client = self.client()
        try:
            client.select(folder)
            _typ, data = client.uid("SEARCH", None, *(criteria or ("ALL",)))
            return data[0].split() if data and data[0] else []
        finally:
            client.logout()

    def empty(self) -> None:
        client = self.client()
        try:
            for folder in ("INBOX", "Done"):
                typ, data = client.select(folder)
                if typ == "OK" and data and data[0] not in (b"0", None):
                    client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                    client.expunge()
        finally:
            client.logout()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def configuration(folder: Path, port: int, plain_port: int, cert: Path, key: Path) -> str:
    """Dovecot's configuration: loopback only, TLS only, one user from a password file."""
    if os.geteuid() == 0:
        # Dovecot drops to its own unprivileged users; the mail belongs to `dovecot`.
        mail_user = pwd.getpwnam("dovecot")
        privileges = ""
    else:
        mail_user = pwd.getpwuid(os.geteuid())
        privileges = (
            f"default_internal_user = {mail_user.pw_name}\n"
            f"default_login_user = {mail_user.pw_name}\n"
            f"default_internal_group = {mail_user.pw_name}\n"
        )
    home = folder / "home"
    home.mkdir()
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 1
{privileges}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Done {{
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextmanager
def dovecot(folder: Path) -> Iterator[ImapServer]:
    """Run Dovecot until the block ends; raise RuntimeError saying why it did not start."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed")
    cert, key = certificate(folder)
    port, plain_port = free_port(), free_port()
    config = folder / "dovecot.conf"
    config.write_text(configuration(folder, port, plain_port, cert, key))
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = ImapServer("127.0.0.1", port, plain_port, USER, PASSWORD, str(cert))
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"dovecot exited: {error.strip()[:500]}")
            try:
                # The greeting only: a login attempted before the auth process is up
                # fails, and Dovecot then slows down every later login.
                context = ssl.create_default_context(cafile=server.ca_file)
                imaplib.IMAP4_SSL(server.host, port, ssl_context=context, timeout=5).shutdown()
                break
            except (OSError, imaplib.IMAP4.error) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot did not answer on port {port}: {exc}") from exc
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
