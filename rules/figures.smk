rule plot_curves:
    input:
        runs="results/{suite}/tables/{experiment}/runs.csv",
        sources=script_sources("plot_curves.py"),
    output:
        pdf="results/{suite}/figures/{experiment}/accuracy_b{batch_size}.pdf",
        png=report(
            "results/{suite}/figures/{experiment}/accuracy_b{batch_size}.png",
            caption="../report/accuracy_curves.rst",
            category="Accuracy curves",
            labels={"experiment": "{experiment}", "batch size": "{batch_size}"},
        ),
    params:
        plots=plot_settings,
    log:
        "logs/{suite}/plot_curves/{experiment}/b{batch_size}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    script:
        "../scripts/plot_curves.py"


rule plot_bench:
    input:
        table="results/{suite}/bench/{bench}/timings.csv",
        sources=script_sources("plot_bench.py"),
    output:
        pdf="results/{suite}/bench/{bench}/timing.pdf",
        png=report(
            "results/{suite}/bench/{bench}/timing.png",
            caption="../report/timing_plot.rst",
            category="Acquisition time",
            labels={"benchmark": "{bench}", "figure": "time vs batch and pool size"},
        ),
    params:
        plots=plot_settings,
    log:
        "logs/{suite}/plot_bench/{bench}.log",
    localrule: True
    conda:
        "../envs/sbadbal.yaml"
    script:
        "../scripts/plot_bench.py"
