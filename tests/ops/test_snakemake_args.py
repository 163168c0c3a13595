"""The Snakemake options recover names, and the parts of a Snakemake command line the summary repeats."""

from __future__ import annotations

from sbadbal.ops.snakemake_args import RECOVER_OPTIONS, recover_arguments, split_verbatim, workflow_arguments


def test_workflow_arguments_keep_what_selects_the_workflow_and_its_configuration():
    argv = ["--cores", "4", "--config", "suite=paper", "data={root: /d}", "results/x.pt", "--configfile", "a.yaml",
            "b.yaml", "-k", "--directory=work", "-s", "Snakefile", "-C", "x=1", "--workflow-profile", "profiles/slurm"]
    assert workflow_arguments(argv) == ["--config", "suite=paper", "data={root: /d}", "--configfile", "a.yaml",
                                        "b.yaml", "--directory=work", "-s", "Snakefile", "-C", "x=1"]
    assert workflow_arguments(["-dwork", "--cores", "1"]) == ["-dwork"]
    assert workflow_arguments([]) == []


def test_recover_takes_a_command_line_as_written_only_when_it_knows_every_option():
    known = ["--cores", "2", "-k", "--ri", "-c2", "--config=suite=tiny", "results/x.pt", "--res", "gpu=1"]
    assert recover_arguments(known) == known
    assert recover_arguments(["--cores", "2", "--latency-wait", "5"]) == ["--", "--cores", "2", "--latency-wait", "5"]
    assert recover_arguments([]) == []


def test_verbatim_arguments_follow_the_first_double_dash():
    assert split_verbatim(["--cores", "1", "--", "--latency-wait", "5", "--", "x"]) == \
        (["--cores", "1"], ["--latency-wait", "5", "--", "x"])
    assert split_verbatim(["x"]) == (["x"], [])


def test_every_forwarded_flag_is_a_long_snakemake_option_first():
    assert all(option.flags[0].startswith("--") for option in RECOVER_OPTIONS)
    flags = [flag for option in RECOVER_OPTIONS for flag in option.flags]
    assert len(flags) == len(set(flags))
