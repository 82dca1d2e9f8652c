#!/usr/bin/env python3
"""Soak test (issue 15, point 8): simulated committee officers against one
release `dms serve` on PostgreSQL, for minutes, with the server's RSS
sampled every second.

Each simulated user signs in, then loops: list the cases, create a case,
upload a DAO and three offers (Word and PDF), open the case, run the
analysis (following a 202 to its status URL when the server queues it),
download the CBA and the PV, record the decision, open the case again.

Printed at the end: requests per second, p50/p99 per route, the count of
answers by class (5xx: goal 0; 429/503 are the server protecting itself
and are counted apart), and RSS every 10 s with the drift over the last
three minutes (goal: flat). `--json FILE` keeps the raw figures.

Needs: cargo (it builds target/release/dms and migration unless
--no-build), the local PostgreSQL (createdb/dropdb; trust auth). Only the
standard library: no package to install. The database it creates is
dropped at the end.

    python3 scripts/soak.py                     # 50 users, 5 minutes
    python3 scripts/soak.py --users 10 --minutes 1
"""

import argparse
import io
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DAO_TEXT = """DOSSIER D'APPEL D'OFFRES
Fourniture de kits scolaires
Critères essentiels : registre de commerce et attestation fiscale à jour
Documents obligatoires : caution de soumission
Grille d'évaluation
Prix de l'offre (30 points)
Capacité technique et expérience (50 points)
Durabilité et environnement (20 points)
Total : 100 points
Les offres sont valables 90 jours."""


def docx(text):
    """A minimal Word document with one paragraph per line of `text`."""
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = "".join(
        f"<w:p><w:r><w:t xml:space=\"preserve\">{esc(line.strip())}</w:t></w:r></w:p>"
        for line in text.splitlines()
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + body
        + "</w:body></w:document>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


def pdf(text):
    """A minimal one-page PDF whose text layer holds `text` (ASCII)."""
    lines = [l.strip().encode("latin-1", "replace").decode("latin-1") for l in text.splitlines()]
    ops = " ".join(
        f"BT /F1 11 Tf 72 {740 - 14 * i} Td ({l.replace('(', '[').replace(')', ']')}) Tj ET"
        for i, l in enumerate(lines)
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(ops.encode('latin-1'))} >>\nstream\n{ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for o in offsets:
        out += f"{o:010} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def multipart(fields, filename, content):
    boundary = uuid.uuid4().hex
    body = bytearray()
    for name, value in fields:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
    body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}  # route -> [seconds]
        self.statuses = {}  # class -> count
        self.errors = []  # first 5xx bodies
        self.requests = 0

    def record(self, route, status, seconds, body=b""):
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(route, []).append(seconds)
            key = "network" if status == 0 else f"{status // 100}xx"
            if status in (429, 503):
                key = str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if (status >= 500 and status != 503 or status == 0) and len(self.errors) < 10:
                self.errors.append(f"{route} {status} {body[:300]!r}")


class User:
    def __init__(self, base, stats, username, password, rng):
        self.base = base
        self.stats = stats
        self.username = username
        self.password = password
        self.token = None
        self.rng = rng

    def call(self, route, method, path, body=None, content_type=None, auth=True):
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=120) as res:
                data = res.read()
                status = res.status
                retry = None
        except urllib.error.HTTPError as e:
            data = e.read()
            status = e.code
            retry = e.headers.get("Retry-After")
        except (urllib.error.URLError, OSError) as e:
            data = str(e).encode()
            status = 0
            retry = None
        self.stats.record(route, status, time.monotonic() - start, data)
        if status in (429, 503):
            time.sleep(min(float(retry or 1), 10))
        return status, data

    def json(self, route, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        status, data = self.call(route, method, path, body, "application/json" if body else None)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def sign_in(self):
        body = urllib.parse.urlencode({"username": self.username, "password": self.password}).encode()
        status, data = self.call("POST /auth/token", "POST", "/auth/token", body, "application/x-www-form-urlencoded", auth=False)
        if status == 200:
            self.token = json.loads(data)["access_token"]
        return status == 200

    def upload(self, path, route, fields, filename, content):
        body, ctype = multipart(fields, filename, content)
        return self.call(route, "POST", path, body, ctype)

    def analyse(self, case_id):
        status, body = self.json("POST /api/analyze", "POST", "/api/analyze", {"case_id": case_id})
        if status == 202 and body and body.get("status_url"):
            url = body["status_url"]
            for _ in range(600):
                time.sleep(0.5)
                status, body = self.json("GET /api/analyze/jobs/{id}", "GET", url)
                state = (body or {}).get("status")
                if status != 200 or state in ("done", "failed"):
                    return status == 200 and state == "done", body
            return False, body
        return status == 200, body

    def iteration(self, n):
        self.json("GET /api/cases", "GET", "/api/cases?limit=20")
        status, case = self.json("POST /api/cases", "POST", "/api/cases", {"case_type": "DAO", "title": f"Soak {self.username} {n}"})
        if status != 200 or not case:
            return
        cid = case["id"]
        self.upload(f"/api/cases/{cid}/upload-dao", "POST /api/cases/{id}/upload-dao", [], "dao.docx", DAO_DOCX)
        for i, supplier in enumerate(("ALPHA SARL", "BETA SERVICES", "GAMMA TRADING")):
            price = 1_000_000 + 250_000 * i + self.rng.randint(0, 99_999)
            if i % 2:
                content, name = pdf(f"OFFRE TECHNIQUE\nSociete : {supplier}\nMontant total : {price} FCFA\nDelai de livraison : 30 jours"), "offre.pdf"
            else:
                content, name = docx(f"OFFRE TECHNIQUE\nSociété : {supplier}\nMontant total : {price} FCFA\nDélai de livraison : 30 jours"), "offre.docx"
            self.upload(f"/api/cases/{cid}/upload-offer", "POST /api/cases/{id}/upload-offer", [("supplier_name", supplier), ("offer_type", "technique")], name, content)
        self.json("GET /api/cases/{id}", "GET", f"/api/cases/{cid}")
        ok, run = self.analyse(cid)
        if not ok:
            return
        self.call("GET /api/download/{id}/output_cba", "GET", f"/api/download/{cid}/output_cba")
        self.call("GET /api/download/{id}/output_pv", "GET", f"/api/download/{cid}/output_pv")
        suppliers = (run.get("analysis") or {}).get("suppliers") or [{}]
        chosen = suppliers[0].get("supplier_name", "ALPHA SARL")
        self.json("POST /api/decide", "POST", "/api/decide", {"case_id": cid, "chosen_supplier": chosen, "decision_reason": "Offre conforme la moins-disante", "next_action": "Notifier l'attributaire"})
        self.json("GET /api/cases/{id}", "GET", f"/api/cases/{cid}")
        self.json("GET /api/memory/{id}", "GET", f"/api/memory/{cid}")

    def run(self, deadline):
        while time.monotonic() < deadline and not self.sign_in():
            time.sleep(1)
        n = 0
        while time.monotonic() < deadline:
            self.iteration(n)
            n += 1
            time.sleep(self.rng.uniform(0.2, 1.0))


DAO_DOCX = docx(DAO_TEXT)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--pg", default=os.environ.get("SOAK_PG", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--port", type=int, default=5078)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="write the raw figures here")
    args = ap.parse_args()

    if not args.no_build:
        for crate_bin in (("dms", "dms"), ("migration", "migration")):
            subprocess.run(["cargo", "build", "--release", "--quiet", "-p", crate_bin[0], "--bin", crate_bin[1]], cwd=ROOT, check=True)
    dms = os.path.join(ROOT, "target/release/dms")
    migration = os.path.join(ROOT, "target/release/migration")

    db = f"dms_soak_{os.getpid()}"
    url = f"{args.pg}/{db}"
    work = tempfile.mkdtemp(prefix="dms-soak.")
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=True)
    server = None
    try:
        env = dict(os.environ, DATABASE_URL=url)
        subprocess.run([migration, "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        password = "Soak-" + secrets.token_hex(8)
        users = [f"soak{i:03}" for i in range(args.users)]
        for name in users:
            subprocess.run([dms, "user", "create", "--username", name, "--email", f"{name}@soak.example"], env=env, input=(password + "\n").encode(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env.update(
            DMS_BIND=f"127.0.0.1:{args.port}",
            DMS_DATA_DIR=os.path.join(work, "data"),
            DMS_JWT_SECRET=secrets.token_hex(32),
            DMS_LOG="warn",
            # Simulated officers work faster than people: the per-user
            # limits on cases and uploads are raised so that the run
            # measures the server, not its throttles (429s are counted).
            DMS_CASE_LIMIT="600",
            DMS_UPLOAD_LIMIT="2400",
            DMS_ANALYZE_LIMIT="600",
            DMS_DECIDE_LIMIT="600",
        )
        log = open(os.path.join(work, "server.log"), "wb")
        server = subprocess.Popen([dms, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1).read()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        else:
            sys.exit("soak: the server did not start (see " + log.name + ")")

        stats = Stats()
        seconds = args.minutes * 60
        start = time.monotonic()
        deadline = start + seconds
        rss = []

        def sample():
            while time.monotonic() < deadline:
                rss.append((round(time.monotonic() - start, 1), rss_kib(server.pid)))
                time.sleep(1)

        threads = [threading.Thread(target=sample, daemon=True)]
        for i, name in enumerate(users):
            u = User(base, stats, name, password, random.Random(i))
            threads.append(threading.Thread(target=u.run, args=(deadline,), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 180)
        elapsed = time.monotonic() - start
        healthy = urllib.request.urlopen(base + "/api/health", timeout=5).status == 200

        print(f"\nsoak: {args.users} users, {elapsed:.0f} s, {stats.requests} requests, {stats.requests / elapsed:.1f} req/s, health after: {'ok' if healthy else 'FAILED'}")
        print(f"answers: {json.dumps(dict(sorted(stats.statuses.items())))}")
        print(f"\n{'route':42} {'count':>7} {'p50 ms':>9} {'p99 ms':>9}")
        for route, values in sorted(stats.latencies.items()):
            print(f"{route:42} {len(values):7} {percentile(values, 50) * 1000:9.1f} {percentile(values, 99) * 1000:9.1f}")
        print("\nRSS (MiB) every 10 s: " + " ".join(f"{kib / 1024:.0f}" for t, kib in rss[::10] if kib))
        tail = [kib for t, kib in rss if kib and t >= seconds - 180]
        if len(tail) > 20:
            first = statistics.mean(tail[:10]) / 1024
            last = statistics.mean(tail[-10:]) / 1024
            print(f"RSS over the last 3 minutes: {first:.0f} MiB -> {last:.0f} MiB (drift {last - first:+.0f} MiB), peak {max(tail) / 1024:.0f} MiB")
        fives = sum(v for k, v in stats.statuses.items() if k in ("5xx", "network"))
        print(f"5xx and network errors: {fives} (goal 0)")
        for e in stats.errors:
            print("  " + e)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"users": args.users, "seconds": elapsed, "requests": stats.requests, "statuses": stats.statuses,
                           "routes": {r: {"count": len(v), "p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000} for r, v in stats.latencies.items()},
                           "rss_kib": rss}, f, indent=1)
        sys.exit(0 if fives == 0 and healthy else 1)
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db], check=False)


if __name__ == "__main__":
    main()
