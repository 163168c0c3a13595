# Round 0 (the fit on the initial set, its test pass and pool scores) is the same for every algorithm and batch
# size of a seed: computed once here, read by each run (sbadbal/engine/initial.py, docs/design.md#round-0).
rule initial_round:
    input:
        data=prepared_data_of_experiment,
        code=initial_round_code,
    output:
        ROUND_ZERO,
    log:
        "logs/{suite}/initial_round/{experiment}/seed{seed}.log",
    benchmark:
        "results/{suite}/benchmarks/initial_round/{experiment}/seed{seed}.tsv"
    conda:
        "../envs/sbadbal.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=run_mem_mb,
        runtime=round_zero_runtime_minutes,
    params:
        round_zero=round_zero_spec,
    script:
        "../scripts/initial_round.py"


rule run_al:
    input:
        data=prepared_data_of_experiment,
        round_zero=ROUND_ZERO,
        code=run_code,
    output:
        csv="results/{suite}/runs/{experiment}/b{batch_size}/{alg}/seed{seed}.csv",
        sidecar="results/{suite}/runs/{experiment}/b{batch_size}/{alg}/seed{seed}.json",
    log:
        "logs/{suite}/run_al/{experiment}/b{batch_size}/{alg}/seed{seed}.log",
    benchmark:
        "results/{suite}/benchmarks/run_al/{experiment}/b{batch_size}/{alg}/seed{seed}.tsv"
    conda:
        "../envs/sbadbal.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=run_mem_mb,
        runtime=run_runtime_minutes,
    params:
        run=run_spec,
    script:
        "../scripts/run_al.py"


rule aggregate:
    input:
        runs=experiment_run_csvs,
        # The runs' sidecars vouch for them (a deleted one reruns its run: it is run_al's output).
        sidecars=experiment_run_sidecars,
        code=script_code("aggregate.py"),
    output:
        table=report(
            "results/{suite}/tables/{experiment}/runs.csv",
            caption="../report/runs.rst",
            category="5. Tables",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "all runs (CSV)"},
        ),
        final=report(
            "results/{suite}/tables/{experiment}/final_accuracy.csv",
            caption="../report/download.rst",
            category="2. Accuracy",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "final accuracy (CSV)"},
        ),
        final_md="results/{suite}/tables/{experiment}/final_accuracy.md",
        diagnostics=report(
            "results/{suite}/tables/{experiment}/batch_diagnostics.csv",
            caption="../report/download.rst",
            category="3. Batch diagnostics",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "batch quality (CSV)"},
        ),
        diagnostics_md="results/{suite}/tables/{experiment}/batch_diagnostics.md",
        timing=report(
            "results/{suite}/tables/{experiment}/acquisition_time.csv",
            caption="../report/download.rst",
            category="4. Acquisition time",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "first acquisition time (CSV)"},
        ),
        timing_md="results/{suite}/tables/{experiment}/acquisition_time.md",
    log:
        "logs/{suite}/aggregate/{experiment}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        run_keys=experiment_run_keys,
        expected=aggregate_expectations,
        tables=table_settings,
    script:
        "../scripts/aggregate.py"
