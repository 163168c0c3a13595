rule bench_log_probs:
    input:
        data=prepared_data_of_bench,
        code=bench_log_probs_code,
    output:
        "results/{suite}/bench/{bench}/log_probs.pt",
    log:
        "logs/{suite}/bench_log_probs/{bench}.log",
    benchmark:
        "results/{suite}/benchmarks/bench_log_probs/{bench}.tsv"
    conda:
        "../envs/sbadbal.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=doubling_on_retry(16000),
        runtime=doubling_on_retry(120),
    params:
        run=bench_run,
        model=bench_model_settings,
    script:
        "../scripts/bench_log_probs.py"


rule bench_acquisition:
    input:
        log_probs="results/{suite}/bench/{bench}/log_probs.pt",
        code=bench_acquisition_code,
    output:
        table=report(
            "results/{suite}/bench/{bench}/timings.csv",
            caption="../report/download.rst",
            category="4. Acquisition time",
            labels={"benchmark": "{bench}", "table": "timings (CSV)"},
        ),
        markdown="results/{suite}/bench/{bench}/timings.md",
    log:
        "logs/{suite}/bench_acquisition/{bench}.log",
    benchmark:
        "results/{suite}/benchmarks/bench_acquisition/{bench}.tsv"
    conda:
        "../envs/sbadbal.yaml"
    # Timings need the machine to themselves: ask for more cores than any machine here has; Snakemake scales
    # threads down to --cores locally, so this job runs alone. (workflow.cores would break --report and -n.)
    threads: 256
    resources:
        gpu=1,
        mem_mb=doubling_on_retry(16000),
        runtime=doubling_on_retry(240),
    params:
        timing=bench_timing_settings,
    script:
        "../scripts/bench_acquisition.py"
