#!/usr/bin/env python3
"""Two billbridge server processes on one PostgreSQL database and one ConnectWise sandbox
process, with a push every minute:

0. the limits are shared: a caller hitting both replicas gets the documented request
   allowance (600 a minute), not twice it, and five failed sign-ins lock the account on
   both;
1. for three slots, every slot is claimed once and runs once;
2. then every quantity in ConnectWise is made wrong, the replica running the next push is
   killed (SIGKILL) mid-run, and the other one takes the run over when its lease expires
   and finishes it: every line that needed writing is written exactly once, and no
   addition exists twice.

Takes about five minutes. Needs: target/debug/billbridge, psql, a PostgreSQL at
PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/test).
"""
import base64, datetime, json, os, re, signal, subprocess, sys, tempfile, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "debug", "billbridge")
ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/test")
DB = f"billbridge_replicas_{int(time.time())}_{os.getpid()}"
URL = ADMIN.rsplit("/", 1)[0] + "/" + DB
WORK = tempfile.mkdtemp(prefix="billbridge-replicas-")
ENV = dict(os.environ,
           BILLBRIDGE_JWT_SECRET="replicas-secret-replicas-secret-replicas",
           BILLBRIDGE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
           RUST_LOG="info,billbridge=info")
processes = []


def log(message):
    print(f"[replicas {time.strftime('%H:%M:%S')}] {message}", flush=True)


def psql(sql, url=URL):
    return subprocess.run(["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True).stdout.strip()


def start(name, *args):
    out = open(os.path.join(WORK, f"{name}.log"), "w")
    process = subprocess.Popen([BIN, "--data-dir", os.path.join(WORK, name), *args], stdout=out, stderr=subprocess.STDOUT, env=ENV)
    processes.append(process)
    return process


def address(name, pattern, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = open(os.path.join(WORK, f"{name}.log")).read()
        found = re.search(pattern, text)
        if found:
            return found.group(1)
        time.sleep(0.2)
    sys.exit(f"{name} did not start:\n{open(os.path.join(WORK, f'{name}.log')).read()}")


def graphql(base, token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{base}/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    answer = json.load(urllib.request.urlopen(request, timeout=60))
    if answer.get("errors"):
        sys.exit(f"GraphQL error: {answer['errors']}")
    return answer["data"]


def sandbox_call(site, method, path, body=None):
    auth = base64.b64encode(b"billbridge-demo+demo-public-key:demo-private-key").decode()
    request = urllib.request.Request(f"{site}/v4_6_release/apis/3.0{path}", json.dumps(body).encode() if body is not None else None,
                                     {"Content-Type": "application/json", "Authorization": f"Basic {auth}", "clientId": "replicas"}, method=method)
    return json.load(urllib.request.urlopen(request, timeout=60))


def state(site):
    return json.load(urllib.request.urlopen(f"{site}/_sandbox/state", timeout=60))


def writes(site):
    return sum(n for call, n in state(site)["calls"].items() if not call.startswith("GET "))


def still_bills(addition):
    """Bills now: not cancelled from a past date (the demo holds one cancelled last quarter),
    and started (a successor starts when the addition it follows is cancelled from)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    def date(field):
        value = addition.get(field)
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    cancelled, effective = date("cancelledDate"), date("effectiveDate")
    return (cancelled is None or cancelled > now) and (effective is None or effective <= now)


def wait(what, check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def main():
    psql(f"CREATE DATABASE {DB}", ADMIN)
    # A slow ConnectWise, so that a push lasts long enough to be killed in the middle.
    start("sandbox", "sandbox", "--listen", "127.0.0.1:0", "--latency-ms", "150")
    site = address("sandbox", r"site: (http://127\.0\.0\.1:\d+)")
    a = start("a", "serve", "--database-url", URL, "--listen", "127.0.0.1:0", "--demo")
    base_a = address("a", r"is serving (http://127\.0\.0\.1:\d+)")
    b = start("b", "serve", "--database-url", URL, "--listen", "127.0.0.1:0")
    base_b = address("b", r"is serving (http://127\.0\.0\.1:\d+)")
    token = subprocess.run([BIN, "--data-dir", os.path.join(WORK, "a"), "token", "--tenant", "demo", "--role", "admin", "--database-url", URL],
                           check=True, capture_output=True, text=True, env=ENV).stdout.strip()
    graphql(base_a, token, """mutation($s: String!) { connectPsa(input: {site: $s, companyId: "billbridge-demo", publicKey: "demo-public-key",
        privateKey: "demo-private-key", clientId: "replicas", integration: "Barracuda Intronis Backup"}) { site } }""", {"s": site})
    graphql(base_b, token, "mutation { syncLevels { created } syncCompanies { linked } }")
    graphql(base_a, token, 'mutation { updatePushSchedule(input: {enabled: true, cron: "* * * * *"}) { nextRunAt } }')
    log(f"sandbox {site}, replicas {base_a} (pid {a.pid}) and {base_b} (pid {b.pid}), schedule every minute")

    # 0. One allowance for both replicas.
    caller = subprocess.run([BIN, "--data-dir", os.path.join(WORK, "a"), "token", "--tenant", "demo", "--role", "viewer", "--subject", "rate-check", "--database-url", URL],
                            check=True, capture_output=True, text=True, env=ENV).stdout.strip()
    granted, started = 0, time.time()
    for i in range(2000):
        base = (base_a, base_b)[i % 2]
        request = urllib.request.Request(f"{base}/graphql", b'{"query":"{ __typename }"}', {"Content-Type": "application/json", "Authorization": f"Bearer {caller}"})
        try:
            urllib.request.urlopen(request, timeout=30).read()
            granted += 1
        except urllib.error.HTTPError as error:
            if error.code != 429:
                raise
            break
    took = time.time() - started
    refilled = 600 / 60 * took
    log(f"rate: {granted} requests granted across both replicas in {took:.1f}s before a 429 (allowance 600 a minute, {refilled:.0f} refilled meanwhile)")
    # A replica takes a busy caller's allowance in leases of up to 12 (a fiftieth of 600):
    # the first 429 may come while the other replica still holds part of its lease.
    assert 600 - 12 <= granted <= 600 + refilled + 20, f"{granted} granted: the replicas do not share the allowance"

    def sign_in(base, password):
        body = json.dumps({"tenant": "demo", "email": "admin@demo.billbridge.local", "password": password}).encode()
        request = urllib.request.Request(f"{base}/auth/login", body, {"Content-Type": "application/json"})
        try:
            return urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code
    failures = [sign_in((base_a, base_b)[i % 2], "wrong password!!") for i in range(5)]
    locked = [sign_in(base, "demo-password") for base in (base_a, base_b)]
    log(f"sign-ins: five wrong ones alternating replicas answered {failures}; then the right password answered {locked}")
    assert failures == [401] * 5 and locked == [429, 429], "the failed sign-in throttle is not shared"

    # 1. Three slots with both replicas alive.
    def three_slots_done():
        done = psql("SELECT count(*) FROM push_runs WHERE trigger = 'SCHEDULE' AND status <> 'RUNNING'")
        return int(done) >= 3 and psql("SELECT count(*) FROM push_runs WHERE status = 'RUNNING'") == "0"
    wait("three scheduled runs", three_slots_done, 300)
    slots = psql("SELECT count(*), count(DISTINCT slot_at), count(run_id) FROM push_slots")
    runs = psql("SELECT count(*), count(DISTINCT slot_at) FROM push_runs WHERE trigger = 'SCHEDULE'")
    statuses = psql("SELECT string_agg(DISTINCT status, ',') FROM push_runs")
    claimers = psql("SELECT string_agg(DISTINCT split_part(claimed_by, ':', 2), ',') FROM push_slots")
    log(f"slots (claimed, distinct, with a run): {slots}; scheduled runs (runs, distinct slots): {runs}; statuses: {statuses}; claimed by pids {claimers}")
    claimed, distinct, with_run = map(int, slots.split("|"))
    run_count, run_slots = map(int, runs.split("|"))
    assert claimed == distinct == with_run == run_count == run_slots, "every slot is claimed once and runs once"
    assert statuses == "SUCCEEDED", statuses

    # 2. Make every quantity wrong, then kill whichever replica runs the next push.
    for addition in state(site)["additions"]:
        if addition.get("cancelledDate"):
            continue  # ConnectWise does not edit a cancelled addition (the demo holds some)
        sandbox_call(site, "PATCH", f"/finance/agreements/{addition['agreementId']}/additions/{addition['id']}",
                     [{"op": "replace", "path": "quantity", "value": 0.25}])
    before = writes(site)
    running = wait("a push writing", lambda: psql("SELECT id, lease_owner FROM push_runs WHERE status = 'RUNNING' AND done >= 20") or None, 120)
    run_id, owner = running.split("|")
    victim = int(owner.split(":")[1])
    survivor = b if victim == a.pid else a
    os.kill(victim, signal.SIGKILL)
    log(f"killed pid {victim} while it ran push {run_id}; pid {survivor.pid} should take over")
    wait(f"push {run_id} to end", lambda: psql(f"SELECT status FROM push_runs WHERE id = {run_id}") != "RUNNING", 240)
    status, done, unchanged, failed, total = psql(f"SELECT status, done, unchanged, failed, total_lines FROM push_runs WHERE id = {run_id}").split("|")
    to_write = int(psql(f"SELECT count(*) FROM push_lines WHERE run_id = {run_id} AND action IN ('UPDATE', 'CREATE', 'RETIRE')"))
    during = writes(site) - before
    log(f"push {run_id}: {status}, {total} lines, {done} written, {unchanged} unchanged, {failed} failed; {to_write} lines needed writing; {during} write calls")
    assert status == "SUCCEEDED", status
    assert during == to_write, f"{during} write calls for {to_write} lines: something was written twice (or not at all)"
    # Writes the killed replica made but never recorded are adopted by the survivor and
    # count as written, not as unchanged.
    planned_unchanged = int(psql(f"SELECT count(*) FROM push_lines WHERE run_id = {run_id} AND action = 'UNCHANGED'"))
    assert int(done) == to_write, f"{done} lines counted as written, {to_write} needed writing"
    assert int(unchanged) == planned_unchanged, f"{unchanged} counted unchanged, {planned_unchanged} planned so"
    seen = {}
    for addition in filter(still_bills, state(site)["additions"]):
        key = (addition["agreementId"], addition["product"]["id"])
        seen[key] = seen.get(key, 0) + 1
    assert all(n == 1 for n in seen.values()), "a duplicate addition"
    assert psql(f"SELECT count(*) FROM push_lines WHERE run_id = {run_id} AND outcome = 'PENDING'") == "0"
    log("ok: every slot ran once; the killed replica's push was finished by the other, nothing written twice")


try:
    main()
finally:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    subprocess.run(["psql", ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DB}"], capture_output=True)
    if os.environ.get("KEEP_REPLICA_LOGS"):
        print(f"logs in {WORK}")
    else:
        subprocess.run(["rm", "-rf", WORK])
