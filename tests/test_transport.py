"""The HTTP transport under PyGithub: http.client over real sockets, TLS verified as requests verifies,
gzip answers decoded, and requests kept whenever a proxy applies to the host."""

from __future__ import annotations

import datetime
import gzip
import http.client
import io
import ipaddress
import json
import random
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from github import Github

from pytest_ghseed.fetch import connection
from pytest_ghseed.fetch.transport import make_github
from pytest_ghseed.secrets import Token
from tests.helpers import REPO, TOKENS


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Gzipped(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = gzip.compress(
            json.dumps({"path": self.path, "auth": self.headers.get("Authorization")}).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 answering gzip JSON; yields its base URL and its certificate."""
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_https_goes_through_http_client_verified_against_the_configured_bundle(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyGithub over the lean transport: TLS verified with REQUESTS_CA_BUNDLE, gzip decoded, auth sent."""
    base_url, cert = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    gh = make_github(base_url, None)
    assert getattr(gh.requester, connection._HOOK) is connection.LeanHTTPSConnection
    status, _headers, body = gh.requester.requestJson(
        "GET", "/repos/a/b", headers={"Authorization": "token x"}
    )
    assert status == 200 and json.loads(body) == {"path": "/repos/a/b", "auth": "token x"}


def test_an_untrusted_certificate_is_refused(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the server's certificate in the bundle (certifi's, as requests uses) the handshake fails."""
    base_url, _cert = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    gh = make_github(base_url, None)
    with pytest.raises(ssl.SSLCertVerificationError):
        gh.requester.requestJson("GET", "/repos/a/b")


def test_a_proxy_for_the_host_keeps_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY applies: requests (which speaks to proxies) stays; NO_PROXY for the host: http.client."""
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert connection.install(make_github_plain(), "https://api.github.com") is False
    monkeypatch.setenv("NO_PROXY", "api.github.com")
    assert connection.install(make_github_plain(), "https://api.github.com") is True


def make_github_plain() -> Github:
    """A PyGithub client with its default transport (what ``install`` starts from)."""
    return Github(base_url="https://api.github.com")


def test_a_fetch_inside_a_vcrpy_cassette_records_then_replays(emulator_factory, tmp_path: Path) -> None:
    """A user's vcrpy cassette around ghseed's client (vcrpy patches http.client): recorded, then replayed."""
    import vcr

    emu = emulator_factory(n_prs=3)
    token, base_url = Token(next(iter(TOKENS))), emu.base_url
    cassette = str(tmp_path / "outer.yaml")

    def read() -> list[tuple[int, str]]:
        gh = make_github(base_url, token)
        return sorted((pull.number, pull.title) for pull in gh.get_repo(REPO).get_pulls(state="all"))

    truth = [(pr.number, pr.title) for pr in sorted(emu.truth(REPO), key=lambda pr: pr.number)]
    with vcr.use_cassette(cassette, record_mode="once"):
        recorded = read()
    emu.stop()  # nothing left to answer: the second read is vcrpy's alone
    with vcr.use_cassette(cassette, record_mode="none"):
        replayed = read()
    assert recorded == truth
    assert replayed == recorded


# -- the header parser -------------------------------------------------------------------------------

_HEADER_PIECES = [
    "Content-Type",
    "ETag",
    "Link",
    "X-RateLimit-Remaining",
    "From ",
    "From",
    "Set-Cookie",
    "bad name",
    "",
    ":",
    ": ",
    " ",
    "\t",
    "\r",
    "\r\n",
    "\n",
    "value",
    'text/html; charset="latin-1"',
    "caf\xe9",
    "\x85",
    "<https://x/?page=2>; rel=next",
    "x:y",
]


def _header_block(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(0, 8)):
        line = "".join(rng.choice(_HEADER_PIECES) for _ in range(rng.randint(1, 4)))
        lines.append(line.replace("\n", "") + rng.choice(["\r\n", "\n"]))
    return ("".join(lines) + "\r\n").encode("iso-8859-1") + b"BODY"


@pytest.mark.parametrize("seed", range(4))
def test_the_lean_header_parser_agrees_with_http_client(seed: int) -> None:
    """Random header blocks (folded lines, mbox "From " lines, empty names, bare CRs, Latin-1, lines that
    end the block early): the same names, values and order as ``http.client.parse_headers``, and the
    same bytes left for the body."""
    rng = random.Random(seed)
    for _ in range(500):
        block = _header_block(rng)
        ours_fp, theirs_fp = io.BytesIO(block), io.BytesIO(block)
        ours, theirs = connection.parse_headers(ours_fp), http.client.parse_headers(theirs_fp)
        assert ours.items() == theirs.items(), block
        assert ours.get_content_charset() == theirs.get_content_charset(), block
        assert ours_fp.read() == theirs_fp.read()


def test_the_lean_header_parser_keeps_http_clients_limits() -> None:
    too_many = b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        connection.parse_headers(io.BytesIO(too_many))
    with pytest.raises(http.client.LineTooLong):
        connection.parse_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))


def test_the_lean_response_reads_a_real_answer(emulator_factory) -> None:
    """The response class the lean connection installs, over a real socket: status, headers and body."""
    emu = emulator_factory()
    host, port = emu.base_url.split("://", 1)[1].split(":")
    lean = connection.LeanHTTPConnection(host, int(port), timeout=10)
    try:
        lean.request("GET", f"/repos/{REPO}", None, {"Authorization": "token tok-alice-1"})
        answer = lean.getresponse()
    finally:
        lean.close()
    assert answer.status == 200
    headers = dict(answer.getheaders())
    assert headers["Content-Type"].startswith("application/json")
    assert "X-RateLimit-Remaining" in headers
    assert json.loads(answer.read())["full_name"] == REPO


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json; charset=utf-8", "utf-8"),
        ('text/plain; Charset="ISO-8859-1"', "iso8859-1"),
        ("application/json", "utf-8"),
        ("application/json; charset=bogus", "utf-8"),
        ("application/json; charset=", "utf-8"),
        ("", "utf-8"),
    ],
)
def test_the_answer_charset_is_read_from_the_content_type(content_type: str, expected: str) -> None:
    """Known charsets are used; an unknown or empty one falls back to UTF-8 instead of a crash."""
    assert connection._charset(content_type) == expected


class _OddCharset(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"name": "caf\u00e9"}, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=no-such-codec")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_unknown_charset_is_read_as_utf8_end_to_end() -> None:
    """PyGithub -> the lean connection -> a server naming a charset Python does not know: the answer is
    read as UTF-8 (the API's own), not a LookupError out of the crawl."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OddCharset)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gh = make_github(f"http://127.0.0.1:{server.server_address[1]}", None)
        status, _headers, body = gh.requester.requestJson("GET", "/repos/acme/widgets")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 200
    assert json.loads(body) == {"name": "caf\u00e9"}
