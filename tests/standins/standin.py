#!/usr/bin/python3 -S
"""STAND-INS for batch schedulers that cannot run here (no Debian packages): PBS Professional,
Torque, LSF, HTCondor, Flux and Cobalt. Tests only; standard library only.

Installed as links named after each scheduler's commands (qsub, qstat, bjobs, condor_q,
flux, ...) in a directory put first on PATH; PLAIT_STANDIN names the scheduler and
PLAIT_STANDIN_DIR holds its jobs. A submitted script really runs, in its own session, so a
pilot executor can run on a stand-in. Output follows each scheduler's manual, cited in
tests/providers/test_standin_schedulers.py.

Test-only controls (no scheduler has these):
    standin-ctl state JOB STATE    report JOB in STATE (any text, for unknown states)
    standin-ctl fake JOB=STATE...  make jobs that only exist to be reported in a state
    standin-ctl walltime JOB...    kill the jobs' processes as a walltime limit would
    standin-ctl queues Q1,Q2       the queues qsub/bsub accept (default: all)
    a job whose script contains "#standin: hold" stays queued
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time

FLAVOR = os.environ.get("PLAIT_STANDIN", "")
ROOT = os.environ.get("PLAIT_STANDIN_DIR", "")
JOBS = os.path.join(ROOT, "jobs")
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# -- job store ------------------------------------------------------------------------------------
def _path(job: str, ext: str = "json") -> str:
    return os.path.join(JOBS, f"{job}.{ext}")


def new_id() -> int:
    os.makedirs(JOBS, exist_ok=True)
    with open(os.path.join(ROOT, "counter"), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        n = int(fh.read().strip() or "100") + 1
        fh.seek(0)
        fh.truncate()
        fh.write(str(n))
    return n


def load(job: str) -> dict | None:
    try:
        with open(_path(job)) as fh:
            return json.load(fh)
    except OSError:
        return None


def save(job: str, rec: dict) -> None:
    with open(_path(job) + ".tmp", "w") as fh:
        json.dump(rec, fh)
    os.replace(_path(job) + ".tmp", _path(job))


def start(key: str, shown_id: str, script: str, out: str, err: str, name: str,
          queue: str, env: dict[str, str], argv: list[str] | None = None) -> None:
    rec = {"id": shown_id, "name": name, "queue": queue, "script": script, "out": out,
           "err": err, "submitted": time.time(), "pid": None, "ended_by": None}
    with open(script) as fh:
        held = "#standin: hold" in fh.read()
    if not held:
        ec = _path(key, "ec")
        run = argv or ["bash", script]
        wrapper = '"$@" > "$OUT" 2> "$ERR"; echo $? > "$EC.tmp"; mv "$EC.tmp" "$EC"'
        proc = subprocess.Popen(
            ["bash", "-c", wrapper, "standin-job", *run],
            env={**os.environ, **env, "OUT": out, "ERR": err, "EC": ec},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=os.path.dirname(script) or ".")
        rec["pid"] = proc.pid
        rec["started"] = time.time()
    save(key, rec)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def phase(key: str, rec: dict) -> tuple[str, int | None]:
    """("queued" | "running" | "done" | "killed" | "walltime" | <forced>, exit code)."""
    try:
        with open(_path(key, "state")) as fh:
            return "forced:" + fh.read().strip(), None
    except OSError:
        pass
    if rec.get("ended_by"):
        return rec["ended_by"], rec.get("exit")
    try:
        with open(_path(key, "ec")) as fh:
            return "done", int(fh.read().strip() or "0")
    except OSError:
        pass
    if rec.get("pid") is None:
        return "queued", None
    return ("running", None) if _alive(rec["pid"]) else ("done", None)


def kill(key: str, rec: dict, why: str, exit_code: int) -> None:
    if rec.get("pid") and _alive(rec["pid"]):
        try:
            os.killpg(rec["pid"], signal.SIGTERM)
        except OSError:
            pass
    rec["ended_by"], rec["exit"] = why, exit_code
    save(key, rec)


def accepted_queue(queue: str) -> bool:
    try:
        with open(os.path.join(ROOT, "queues")) as fh:
            return queue in fh.read().split(",")
    except OSError:
        return True


def directive(script: str, prefix: str, flag: str) -> str | None:
    with open(script) as fh:
        for line in fh:
            if line.startswith(prefix):
                m = re.match(rf"{re.escape(prefix)}\s+{re.escape(flag)}\s*(\S+)", line)
                if m:
                    return m.group(1)
    return None


def fail(message: str, code: int) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(code)


# -- PBS Professional and Torque: qsub / qstat / qdel ---------------------------------------------
PBS_STATE = {"queued": "Q", "running": "R", "done": "F", "killed": "F", "walltime": "F"}


def pbs_qsub(args: list[str]) -> None:
    script = args[-1]
    queue = directive(script, "#PBS", "-q") or ("batch" if FLAVOR == "torque" else "workq")
    if not accepted_queue(queue):
        fail("qsub: Unknown queue", 170)
    wall = directive(script, "#PBS", "-l walltime=") or ""
    if wall and not re.fullmatch(r"\d+:\d\d:\d\d", wall):
        fail("qsub: Illegal attribute or resource value Resource_List.walltime", 188)
    n = new_id()
    job = f"{n}.standin"
    name = directive(script, "#PBS", "-N") or "STDIN"
    out = directive(script, "#PBS", "-o") or f"{script}.o{n}"
    err = directive(script, "#PBS", "-e") or f"{script}.e{n}"
    start(job, job, script, out, err, name, queue, {"PBS_JOBID": job, "PBS_O_WORKDIR": "."})
    print(job)


def pbs_qstat(args: list[str]) -> None:
    ids = [a for a in args if not a.startswith("-") and a not in ("json",)]
    unknown, rows = [], []
    for job in ids:
        rec = load(job)
        if rec is None:
            unknown.append(job)
            continue
        what, code = phase(job, rec)
        state = what[7:] if what.startswith("forced:") else PBS_STATE[what]
        if FLAVOR == "torque" and state == "F":
            state = "C"  # Torque keeps finished jobs as C (keep_completed)
        if FLAVOR == "pbspro" and state == "F" and "-x" not in args:
            unknown.append(job)  # without -x, PBS Pro does not show finished jobs
            continue
        rows.append((job, rec, state, what, code))
    if FLAVOR == "pbspro":
        jobs = {}
        for job, rec, state, what, code in rows:
            attrs = {"Job_Name": rec["name"], "Job_Owner": "root@standin",
                     "job_state": state, "queue": rec["queue"]}
            if state == "F":
                attrs["Exit_status"] = {"walltime": -29, "killed": 271}.get(what, code or 0)
                if what == "walltime":
                    attrs["comment"] = "job killed: walltime exceeded limit"
            jobs[job] = attrs
        if rows:
            print(json.dumps({"timestamp": int(time.time()), "pbs_version": "2022.1.0",
                              "pbs_server": "standin", "Jobs": jobs}, indent=4))
    else:
        if rows:
            print("Job ID                    Name             User            Time Use S Queue")
            print("------------------------- ---------------- --------------- -------- - -----")
        for job, rec, state, _, _ in rows:
            print(f"{job:<25} {rec['name'][:16]:<16} {'root':<15} {'00:00:00':>8} {state} "
                  f"{rec['queue']}")
    for job in unknown:
        sys.stderr.write(f"qstat: Unknown Job Id {'Error ' if FLAVOR == 'torque' else ''}"
                         f"{job}\n")
    sys.exit(153 if unknown else 0)


def pbs_qdel(args: list[str]) -> None:
    bad = False
    for job in args:
        rec = load(job)
        if rec is None:
            sys.stderr.write(f"qdel: Unknown Job Id {job}\n")
            bad = True
        elif phase(job, rec)[0] in ("queued", "running"):
            kill(job, rec, "killed", 271)
    sys.exit(153 if bad else 0)


# -- LSF: bsub / bjobs / bkill --------------------------------------------------------------------
LSF_STAT = {"queued": ("PEND", "-"), "running": ("RUN", "-"), "done": ("DONE", "-"),
            "killed": ("EXIT", "TERM_OWNER"), "walltime": ("EXIT", "TERM_RUNLIMIT")}


def lsf_bsub(args: list[str]) -> None:
    if args:
        script = args[-1]
    else:  # bsub < script: the job script comes on stdin
        script = os.path.join(ROOT, f"stdin-{time.time()}.sh")
        with open(script, "w") as fh:
            fh.write(sys.stdin.read())
    queue = directive(script, "#BSUB", "-q") or "normal"
    if not accepted_queue(queue):
        fail(f"{queue}: No such queue. Job not submitted.", 255)
    n = str(new_id())
    start(n, n, script, directive(script, "#BSUB", "-o") or f"{script}.out",
          directive(script, "#BSUB", "-e") or f"{script}.err",
          directive(script, "#BSUB", "-J") or "NONAME", queue, {"LSB_JOBID": n})
    print(f"Job <{n}> is submitted to queue <{queue}>.")


def lsf_bjobs(args: list[str]) -> None:
    ids = [a for a in args if a.isdigit()]
    assert "-o" in args and "-noheader" in args, args
    found = False
    for job in ids:
        rec = load(job)
        if rec is None:
            sys.stderr.write(f"Job <{job}> is not found\n")
            continue
        found = True
        what, _ = phase(job, rec)
        stat, reason = (what[7:], "-") if what.startswith("forced:") else LSF_STAT[what]
        print(f"{job}|{stat}|{reason}")
    sys.exit(0 if found else 255)  # LSB_BJOBS_CONSISTENT_EXIT_CODE=N


def lsf_bkill(args: list[str]) -> None:
    for job in args:
        rec = load(job)
        if rec is None:
            sys.stderr.write(f"Job <{job}>: No matching job found\n")
            continue
        kill(job, rec, "killed", 130)
        print(f"Job <{job}> is being terminated")


# -- HTCondor: condor_submit / condor_q / condor_history / condor_rm ------------------------------
CONDOR_STATUS = {"queued": "1", "running": "2", "killed": "3", "walltime": "3", "done": "4"}
CONDOR_REASON = {"killed": "via condor_rm (by user root)",
                 "walltime": "The job attribute PeriodicRemove expression '(JobStatus == 2) "
                             "&& ((time() - EnteredCurrentStatus) > 60)' evaluated to TRUE"}


def condor_submit(args: list[str]) -> None:
    desc: dict[str, str] = {}
    with open(args[-1]) as fh:
        for line in fh:
            key, eq, value = line.partition("=")
            if eq and not line.lstrip().startswith("#"):
                desc[key.strip().lower()] = value.strip()
    n = str(new_id())
    script = desc["arguments"]
    start(n, n, script, desc.get("output", "/dev/null"), desc.get("error", "/dev/null"),
          n, "condor", {"_CONDOR_JOB_AD": "standin"}, [desc.get("executable", "/bin/bash"),
                                                      script])
    print("Submitting job(s).")
    print(f"1 job(s) submitted to cluster {n}.")


def condor_list(args: list[str], history: bool) -> None:
    ids = [a.split(".")[0] for a in args if a.split(".")[0].isdigit()]
    assert "-af:jt" in args, args
    for job in ids:
        rec = load(job)
        if rec is None:
            continue
        what, _ = phase(job, rec)
        status = what[7:] if what.startswith("forced:") else CONDOR_STATUS[what]
        in_queue = status not in ("3", "4")
        if in_queue != history:
            print(f"{job}.0\t{status}\t{CONDOR_REASON.get(what, 'undefined')}")


def condor_rm(args: list[str]) -> None:
    for job in [a for a in args if a.isdigit()]:
        rec = load(job)
        if rec is not None and "-forcex" not in args:
            kill(job, rec, "killed", 143)
            print(f"All jobs in cluster {job} have been marked for removal")


# -- Flux: flux batch / flux jobs / flux cancel ---------------------------------------------------
FLUX_STATUS = {"queued": ("PENDING", ""), "running": ("RUNNING", ""),
               "done": ("COMPLETED", ""), "killed": ("CANCELED", "cancel"),
               "walltime": ("TIMEOUT", "timeout")}


def f58(n: int) -> str:
    digits = ""
    while n:
        n, r = divmod(n, 58)
        digits = B58[r] + digits
    return "f" + digits


def flux(args: list[str]) -> None:
    sub, rest = args[0], args[1:]
    if sub == "batch":
        script = rest[-1]
        queue = directive(script, "#flux:", "--queue=") or "batch"
        if not accepted_queue(queue):
            fail(f"flux-batch: ERROR: queue {queue} does not exist (a stand-in's rejection)", 1)
        n = new_id()
        job = f58(n * 1000003)
        start(job, job, script, directive(script, "#flux:", "--output=") or "/dev/null",
              directive(script, "#flux:", "--error=") or "/dev/null",
              directive(script, "#flux:", "--job-name=") or "batch", "batch",
              {"FLUX_JOB_ID": job})
        print(job)
    elif sub == "jobs":
        fmt = next(a.split("=", 1)[1] for a in rest if a.startswith("--format="))
        assert fmt == "{id.f58}|{status}|{exception.type}", fmt
        bad = False
        for job in [a for a in rest if a.startswith("f") and not a.startswith("--")]:
            rec = load(job)
            if rec is None:
                sys.stderr.write(f"flux-jobs: ERROR: {job}: unknown job id\n")
                bad = True
                continue
            what, _ = phase(job, rec)
            status, exc = (what[7:], "") if what.startswith("forced:") else FLUX_STATUS[what]
            print(f"{job}|{status}|{exc}")
        sys.exit(1 if bad else 0)
    elif sub == "cancel":
        for job in rest:
            rec = load(job)
            if rec is not None:
                kill(job, rec, "killed", 143)
    else:
        fail(f"flux: unknown command {sub}", 1)


# -- Cobalt: qsub / qstat / qdel ------------------------------------------------------------------
COBALT_STATE = {"queued": "queued", "running": "running"}


def cobalt_qsub(args: list[str]) -> None:
    opts, i = {}, 0
    while i < len(args) - 1:
        opts[args[i]] = args[i + 1]
        i += 2
    script = args[-1]
    queue = opts.get("-q", "default")
    if not accepted_queue(queue):
        fail(f"qsub: queue {queue} does not exist (a stand-in's rejection)", 1)
    n = str(new_id())
    start(n, n, script, f"{opts.get('-O', script)}.output", f"{opts.get('-O', script)}.error",
          n, queue, {"COBALT_JOBID": n})
    print(n)


def cobalt_qstat(args: list[str]) -> None:
    rows = []
    for job in [a for a in args if a.isdigit()]:
        rec = load(job)
        if rec is None:
            continue
        what, _ = phase(job, rec)
        state = what[7:] if what.startswith("forced:") else COBALT_STATE.get(what)
        if state:  # ended jobs are not listed
            rows.append(f"{job:<7}{'root':<9}{'00:10:00':<10}{'1':<7}{state:<11} standin")
    if rows:
        print("JobID  User     WallTime  Nodes  State    Location")
        print("=" * 56)
        print("\n".join(rows))


def cobalt_qdel(args: list[str]) -> None:
    print("      Deleted Jobs\nJobID  User\n" + "=" * 20)
    for job in [a for a in args if a.isdigit()]:
        rec = load(job)
        if rec is not None:
            kill(job, rec, "killed", 143)
            print(f"{job:<7}root")


# -- test-only controls ---------------------------------------------------------------------------
def ctl(args: list[str]) -> None:
    what = args[0]
    if what == "state":
        with open(_path(args[1], "state"), "w") as fh:
            fh.write(args[2])
    elif what == "fake":
        os.makedirs(JOBS, exist_ok=True)
        for pair in args[1:]:
            job, _, state = pair.partition("=")
            save(job, {"id": job, "name": "fake", "queue": "fake", "script": "",
                       "pid": None, "ended_by": None})
            with open(_path(job, "state"), "w") as fh:
                fh.write(state)
    elif what == "walltime":
        for job in args[1:]:
            rec = load(job)
            assert rec is not None, args
            kill(job, rec, "walltime", 271)
    elif what == "queues":
        os.makedirs(ROOT, exist_ok=True)
        with open(os.path.join(ROOT, "queues"), "w") as fh:
            fh.write(args[1])


COMMANDS = {
    ("pbspro", "qsub"): pbs_qsub, ("pbspro", "qstat"): pbs_qstat,
    ("pbspro", "qdel"): pbs_qdel, ("torque", "qsub"): pbs_qsub,
    ("torque", "qstat"): pbs_qstat, ("torque", "qdel"): pbs_qdel,
    ("lsf", "bsub"): lsf_bsub, ("lsf", "bjobs"): lsf_bjobs, ("lsf", "bkill"): lsf_bkill,
    ("condor", "condor_submit"): condor_submit,
    ("condor", "condor_q"): lambda a: condor_list(a, history=False),
    ("condor", "condor_history"): lambda a: condor_list(a, history=True),
    ("condor", "condor_rm"): condor_rm, ("flux", "flux"): flux,
    ("cobalt", "qsub"): cobalt_qsub, ("cobalt", "qstat"): cobalt_qstat,
    ("cobalt", "qdel"): cobalt_qdel,
}
NAMES = sorted({name for _, name in COMMANDS} | {"standin-ctl"})


def main() -> None:
    name = os.path.basename(sys.argv[0])
    if name == "standin-ctl":
        ctl(sys.argv[1:])
        return
    command = COMMANDS.get((FLAVOR, name))
    if command is None:
        fail(f"{name}: command not found (stand-in {FLAVOR!r})", 127)
    command(sys.argv[1:])


if __name__ == "__main__":
    main()
