rule plot_curves:
    input:
        runs="results/{suite}/tables/{experiment}/runs.csv",
        references=experiment_references_file,
        code=script_code("plot_curves.py"),
    output:
        pdf="results/{suite}/figures/{experiment}/accuracy_b{batch_size}.pdf",
        png=report(
            "results/{suite}/figures/{experiment}/accuracy_b{batch_size}.png",
            caption="../report/accuracy_curves.rst",
            category="2. Accuracy",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "batch size": "{batch_size}"},
        ),
        svg="results/{suite}/figures/{experiment}/accuracy_b{batch_size}.svg",
    log:
        "logs/{suite}/plot_curves/{experiment}/b{batch_size}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        plots=plot_settings,
        figure=experiment_figure,
    script:
        "../scripts/plot_curves.py"


rule plot_diagnostics:
    input:
        runs="results/{suite}/tables/{experiment}/runs.csv",
        code=script_code("plot_diagnostics.py"),
    output:
        pdf="results/{suite}/figures/{experiment}/diagnostics_b{batch_size}.pdf",
        png=report(
            "results/{suite}/figures/{experiment}/diagnostics_b{batch_size}.png",
            caption="../report/diagnostics.rst",
            category="3. Batch diagnostics",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "batch size": "{batch_size}"},
        ),
        svg="results/{suite}/figures/{experiment}/diagnostics_b{batch_size}.svg",
    log:
        "logs/{suite}/plot_diagnostics/{experiment}/b{batch_size}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        plots=plot_settings,
        figure=experiment_figure,
    script:
        "../scripts/plot_diagnostics.py"


rule plot_bench:
    input:
        table="results/{suite}/bench/{bench}/timings.csv",
        code=script_code("plot_bench.py"),
    output:
        pdf="results/{suite}/bench/{bench}/timing.pdf",
        png=report(
            "results/{suite}/bench/{bench}/timing.png",
            caption="../report/timing_plot.rst",
            category="4. Acquisition time",
            labels={"benchmark": "{bench}", "figure": "time vs batch and pool size"},
        ),
        svg="results/{suite}/bench/{bench}/timing.svg",
    log:
        "logs/{suite}/plot_bench/{bench}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        plots=plot_settings,
        figure=bench_figure,
    script:
        "../scripts/plot_bench.py"


rule claims:
    input:
        runs=expand("results/{{suite}}/tables/{experiment}/runs.csv", experiment=CLAIMS_EXPERIMENTS),
        timings=expand(
            "results/{{suite}}/bench/{bench}/timings.csv", bench=[CLAIMS_BENCHMARK] if CLAIMS_BENCHMARK else []
        ),
        code=script_code("claims.py"),
    output:
        table="results/{suite}/tables/claims.csv",
        markdown=report(
            "results/{suite}/tables/claims.md",
            caption="../report/claims.rst",
            category="1. Claims",
            labels={"table": "claims and verdicts"},
        ),
    log:
        "logs/{suite}/claims.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        claims=claims_settings,
    script:
        "../scripts/claims.py"


rule compare_references:
    input:
        # Lists in both comparison rules: the script reads runs[0] when there are runs (a benchmark has none).
        runs=["results/{suite}/tables/{experiment}/runs.csv"],
        timings=bench_of_experiment_timings,
        references=experiment_references_file,
        code=script_code("compare_references.py"),
    output:
        table="results/{suite}/tables/{experiment}/reference_comparison.csv",
        markdown=report(
            "results/{suite}/tables/{experiment}/reference_comparison.md",
            caption="../report/reference_comparison.rst",
            category="1. Claims",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "against the original repository"},
        ),
    log:
        "logs/{suite}/compare_references/{experiment}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        references=experiment_references,
    script:
        "../scripts/compare_references.py"


rule compare_bench_references:
    input:
        runs=[],
        timings=["results/{suite}/bench/{bench}/timings.csv"],
        references=bench_references_file,
        code=script_code("compare_references.py"),
    output:
        table="results/{suite}/bench/{bench}/reference_comparison.csv",
        markdown=report(
            "results/{suite}/bench/{bench}/reference_comparison.md",
            caption="../report/reference_comparison.rst",
            category="1. Claims",
            labels={"benchmark": "{bench}", "table": "timing against the original repository"},
        ),
    log:
        "logs/{suite}/compare_references/bench_{bench}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        references=bench_references,
    script:
        "../scripts/compare_references.py"
