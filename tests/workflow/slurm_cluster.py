"""A real single-node Slurm cluster on this machine, from Debian's `slurm-wlm` and `munge`, for the tests.

Everything lives under one folder: a private munge key and socket, a generated slurm.conf (this machine's
CPUs and memory as `slurmd -C` reads them, one partition, no accounting database), state, spool and logs.
Daemons run in the foreground as children of the test process on free ports, so nothing touches a system
Slurm and nothing survives `stop()`. Client commands find the cluster through `SLURM_CONF` (see `env`).

`gpus=N` declares N placeholder GPUs (gres devices that alias /dev/null) so that `--gpus` requests are
scheduled and Slurm sets CUDA_VISIBLE_DEVICES as on a GPU node; torch still finds no CUDA and runs on CPU.
Starting needs root (slurmd launches jobs, and the placeholder devices need mknod).

The cluster also links its slurm.conf at Slurm's default path, /etc/slurm/slurm.conf, for as long as it runs:
inside a job, Snakemake's jobstep plugin (0.6.1) starts the rule with a nested `srun` whose environment it strips
of every SLURM_* variable but the job's identity, SLURM_CONF included, so that srun reads the default path.
A real configuration already there is never touched: starting fails instead.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "scontrol")
INSTALL_HINT = "install them as root: apt-get install slurm-wlm munge (as .ci/run does)"
PARTITION = "sbadbal"
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
CLUSTER_NAME_LINE = "ClusterName=sbadbaltest\n"


class ClusterStartError(RuntimeError):
    """The cluster did not come up; the message carries the daemons' logs."""


def missing_programs() -> list[str]:
    return [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name) is None]


def missing_requirements() -> str | None:
    """Why a cluster cannot start on this machine (missing programs, not root), or None."""
    missing = missing_programs()
    if missing:
        return f"Slurm test cluster: {', '.join(missing)} not found; {INSTALL_HINT}"
    if os.geteuid() != 0:
        return "Slurm test cluster: slurmd must run as root to launch jobs; run the tests as root"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_hardware() -> dict[str, str]:
    """This machine as slurmd sees it: CPUs, Boards, SocketsPerBoard, CoresPerSocket, ThreadsPerCore, RealMemory."""
    line = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in line.split())
    fields.pop("NodeName", None)
    # Leave the operating system some memory, as a real node does.
    fields["RealMemory"] = str(int(int(fields["RealMemory"]) * 0.9))
    return fields


def slurm_conf(root: Path, node: str, hardware: dict[str, str], gpus: int, ports: tuple[int, int]) -> str:
    controller_port, node_port = ports
    gres = f" Gres=gpu:{gpus}" if gpus else ""
    hardware_fields = " ".join(f"{key}={value}" for key, value in hardware.items())
    return CLUSTER_NAME_LINE + f"""\
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
# No cgroups, no accounting database: what a container can run. Status comes from squeue.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes, longer than Snakemake's status interval.
MinJobAge=600
KillWait=5
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 {hardware_fields}{gres} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


class LocalSlurmCluster:
    def __init__(self, root: Path, gpus: int = 0):
        self.root = Path(root)
        self.gpus = gpus
        self.node = socket.gethostname().split(".")[0]
        self.processes: dict[str, subprocess.Popen] = {}
        self.linked_default_conf = False

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """What a client (sbatch, squeue, Snakemake's executor) needs in its environment to reach this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, check=check, env={**os.environ, **self.env},
                              timeout=60)

    def start(self, timeout_s: float = 60) -> LocalSlurmCluster:
        missing = missing_requirements()
        if missing:
            raise ClusterStartError(missing)
        for folder in ("munge", "state", "spool", "log", "devices"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self._start_munge()
        self.conf.write_text(slurm_conf(self.root, self.node, node_hardware(), self.gpus, (free_port(), free_port())))
        if self.gpus:
            self._write_placeholder_gpus()
        self._link_default_conf()
        self._spawn("slurmctld", "slurmctld", "-D", "-c", "-f", str(self.conf))
        self._spawn("slurmd", "slurmd", "-D", "-f", str(self.conf), "-N", self.node)
        self._wait_until_idle(timeout_s)
        return self

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o600)
        munge = self.root / "munge"
        self._spawn(
            "munged", "munged", "--foreground", "--force", f"--key-file={key}", f"--socket={munge / 'munge.socket'}",
            f"--pid-file={munge / 'munged.pid'}", f"--log-file={munge / 'munged.log'}", f"--seed-file={munge / 'seed'}",
        )
        deadline = time.monotonic() + 20
        while not (munge / "munge.socket").exists():
            if time.monotonic() > deadline or self.processes["munged"].poll() is not None:
                raise ClusterStartError(f"munged did not start:\n{self.daemon_logs()}")
            time.sleep(0.1)

    def _link_default_conf(self) -> None:
        if DEFAULT_CONF.is_symlink() and (not DEFAULT_CONF.exists() or CLUSTER_NAME_LINE in DEFAULT_CONF.read_text()):
            DEFAULT_CONF.unlink()  # left by a test cluster whose test process was killed
        if DEFAULT_CONF.exists() or DEFAULT_CONF.is_symlink():
            raise ClusterStartError(f"{DEFAULT_CONF} exists: this machine has a Slurm of its own; the test cluster "
                                    "needs that path (see the module docstring) and leaves a real one alone")
        DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_CONF.symlink_to(self.conf)
        self.linked_default_conf = True

    def _write_placeholder_gpus(self) -> None:
        devices = self.root / "devices"
        for index in range(self.gpus):
            device = devices / f"nvidia{index}"
            if not device.exists():
                os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))  # a character device: /dev/null's numbers
        (self.root / "gres.conf").write_text(f"NodeName={self.node} Name=gpu File={devices}/nvidia[0-{self.gpus - 1}]\n")

    def _spawn(self, name: str, *command: str) -> None:
        output = open(self.root / "log" / f"{name}.out", "w")
        self.processes[name] = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                                env={**os.environ, **self.env}, start_new_session=True)
        output.close()

    def _wait_until_idle(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        state = ""
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ClusterStartError(f"{name} exited with {process.returncode}:\n{self.daemon_logs()}")
            result = self.run("sinfo", "--noheader", "--format=%T", check=False)
            state = result.stdout.strip()
            if state == "idle":
                return
            if any(bad in state for bad in ("drain", "inval", "down")) and "*" not in state:
                reason = self.run("sinfo", "-R", check=False).stdout
                raise ClusterStartError(f"node is {state}: {reason}\n{self.daemon_logs()}")
            time.sleep(0.3)
        raise ClusterStartError(f"the node did not become idle within {timeout_s:.0f} s (last state {state!r}):\n"
                                f"{self.daemon_logs()}")

    def daemon_logs(self, lines: int = 40) -> str:
        parts = []
        for path in sorted([*(self.root / "log").glob("*"), self.root / "munge" / "munged.log"]):
            if path.is_file():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (finished ones for MinJobAge): id, state, name, comment."""
        result = self.run("squeue", "--noheader", "--states=all", "--format=%i|%T|%j|%k")
        rows = [line.split("|", 3) for line in result.stdout.splitlines() if line.strip()]
        return [dict(zip(("id", "state", "name", "comment"), row)) for row in rows]

    def job_details(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` as a dict (values keep their text, e.g. TRES=cpu=1,mem=4000M,node=1,gres/gpu=1)."""
        text = self.run("scontrol", "show", "job", "--oneliner", job_id).stdout
        return dict(re.findall(r"(\S+?)=(\S*)", text))

    def stop(self) -> None:
        if "slurmctld" in self.processes:
            self.run("scancel", "--full", "--partition", PARTITION, check=False)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(job["state"] in ("RUNNING", "PENDING", "COMPLETING")
                                                      for job in self._jobs_or_none()):
                time.sleep(0.3)
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.linked_default_conf and DEFAULT_CONF.is_symlink() and DEFAULT_CONF.resolve() == self.conf.resolve():
            DEFAULT_CONF.unlink()
            self.linked_default_conf = False

    def _jobs_or_none(self) -> list[dict[str, str]]:
        try:
            return self.jobs()
        except (subprocess.SubprocessError, OSError):
            return []

    def __enter__(self) -> LocalSlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
