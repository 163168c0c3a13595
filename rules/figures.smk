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
            labels={
                "experiment": "{experiment}",
                "batch size": "{batch_size}",
                "figure": "accuracy vs labels",
                "width": "page",
            },
        ),
        svg="results/{suite}/figures/{experiment}/accuracy_b{batch_size}.svg",
        column_pdf="results/{suite}/figures/{experiment}/accuracy_b{batch_size}_column.pdf",
        column_png=report(
            "results/{suite}/figures/{experiment}/accuracy_b{batch_size}_column.png",
            caption="../report/accuracy_curves.rst",
            category="2. Accuracy",
            subcategory="{experiment}",
            labels={
                "experiment": "{experiment}",
                "batch size": "{batch_size}",
                "figure": "accuracy vs labels",
                "width": "3.3 in column",
            },
        ),
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
            labels={"experiment": "{experiment}", "batch size": "{batch_size}", "width": "page"},
        ),
        svg="results/{suite}/figures/{experiment}/diagnostics_b{batch_size}.svg",
        column_pdf="results/{suite}/figures/{experiment}/diagnostics_b{batch_size}_column.pdf",
        column_png=report(
            "results/{suite}/figures/{experiment}/diagnostics_b{batch_size}_column.png",
            caption="../report/diagnostics.rst",
            category="3. Batch diagnostics",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "batch size": "{batch_size}", "width": "3.3 in column"},
        ),
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


rule plot_accuracy_time:
    input:
        runs="results/{suite}/tables/{experiment}/runs.csv",
        code=script_code("plot_accuracy_time.py"),
    output:
        pdf="results/{suite}/figures/{experiment}/accuracy_time_b{batch_size}.pdf",
        png=report(
            "results/{suite}/figures/{experiment}/accuracy_time_b{batch_size}.png",
            caption="../report/accuracy_time.rst",
            category="2. Accuracy",
            subcategory="{experiment}",
            labels={
                "experiment": "{experiment}",
                "batch size": "{batch_size}",
                "figure": "accuracy vs seconds",
                "width": "page",
            },
        ),
        svg="results/{suite}/figures/{experiment}/accuracy_time_b{batch_size}.svg",
        column_pdf="results/{suite}/figures/{experiment}/accuracy_time_b{batch_size}_column.pdf",
        column_png=report(
            "results/{suite}/figures/{experiment}/accuracy_time_b{batch_size}_column.png",
            caption="../report/accuracy_time.rst",
            category="2. Accuracy",
            subcategory="{experiment}",
            labels={
                "experiment": "{experiment}",
                "batch size": "{batch_size}",
                "figure": "accuracy vs seconds",
                "width": "3.3 in column",
            },
        ),
    log:
        "logs/{suite}/plot_accuracy_time/{experiment}/b{batch_size}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        plots=plot_settings,
        figure=experiment_figure,
    script:
        "../scripts/plot_accuracy_time.py"


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
            labels={"benchmark": "{bench}", "figure": "time vs batch and pool size", "width": "page"},
        ),
        svg="results/{suite}/bench/{bench}/timing.svg",
        column_pdf="results/{suite}/bench/{bench}/timing_column.pdf",
        column_png=report(
            "results/{suite}/bench/{bench}/timing_column.png",
            caption="../report/timing_plot.rst",
            category="4. Acquisition time",
            labels={"benchmark": "{bench}", "figure": "time vs batch and pool size", "width": "3.3 in column"},
        ),
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
        # The run files the tables are made from: the job refuses a table older than one of them.
        sources=claims_run_csvs,
        timings=expand(
            "results/{{suite}}/bench/{bench}/timings.csv", bench=[CLAIMS_BENCHMARK] if CLAIMS_BENCHMARK else []
        ),
        code=script_code("claims.py"),
    output:
        table=report(
            "results/{suite}/tables/claims.csv",
            caption="../report/download.rst",
            category="1. Claims",
            labels={"table": "claims and verdicts (CSV)"},
        ),
        markdown="results/{suite}/tables/claims.md",
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
        table=report(
            "results/{suite}/tables/{experiment}/reference_comparison.csv",
            caption="../report/download.rst",
            category="1. Claims",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "table": "against the original repository (CSV)"},
        ),
        markdown="results/{suite}/tables/{experiment}/reference_comparison.md",
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
        table=report(
            "results/{suite}/bench/{bench}/reference_comparison.csv",
            caption="../report/download.rst",
            category="1. Claims",
            labels={"benchmark": "{bench}", "table": "timing against the original repository (CSV)"},
        ),
        markdown="results/{suite}/bench/{bench}/reference_comparison.md",
    log:
        "logs/{suite}/compare_references/bench_{bench}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        references=bench_references,
    script:
        "../scripts/compare_references.py"


rule table_page:
    input:
        markdown="results/{suite}/tables/{experiment}/{table}.md",
        code=script_code("render_table.py"),
    output:
        page=report(
            "results/{suite}/tables/{experiment}/{table}.html",
            caption="../report/table_page.rst",
            category=table_page_category,
            subcategory="{experiment}",
            labels=table_page_labels,
        ),
    log:
        "logs/{suite}/table_page/{experiment}/{table}.log",
    wildcard_constraints:
        table="final_accuracy|batch_diagnostics|acquisition_time|reference_comparison",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    params:
        title=table_page_title,
    script:
        "../scripts/render_table.py"


use rule table_page as bench_table_page with:
    input:
        markdown="results/{suite}/bench/{bench}/{table}.md",
        code=script_code("render_table.py"),
    output:
        page=report(
            "results/{suite}/bench/{bench}/{table}.html",
            caption="../report/table_page.rst",
            category=table_page_category,
            labels=table_page_labels,
        ),
    log:
        "logs/{suite}/table_page/bench_{bench}/{table}.log",
    wildcard_constraints:
        table="timings|reference_comparison",


use rule table_page as claims_page with:
    input:
        markdown="results/{suite}/tables/claims.md",
        code=script_code("render_table.py"),
    output:
        page=report(
            "results/{suite}/tables/claims.html",
            caption="../report/claims.rst",
            category="1. Claims",
            labels={"table": "claims and verdicts"},
        ),
    log:
        "logs/{suite}/table_page/claims.log",
    params:
        title="Claims and verdicts",


# The `use rule` copies above do not inherit `localrule: True` (a Slurm run submitted them as jobs): named here.
localrules:
    bench_table_page,
    claims_page,
