rule prepare_data:
    input:
        code=prepare_code,
        local_files=local_source_files,
        raw=retrieved_raw,
    output:
        "results/{suite}/data/{dataset}.pt",
    log:
        "logs/{suite}/prepare_data/{dataset}.log",
    benchmark:
        "results/{suite}/benchmarks/prepare_data/{dataset}.tsv"
    conda:
        "../envs/sbadbal.yaml"
    threads: 1
    resources:
        mem_mb=prepare_mem_mb,
        runtime=doubling_on_retry(120),
    params:
        settings=prepare_settings,
        dataset=dataset_record,
    script:
        "../scripts/prepare_data.py"
