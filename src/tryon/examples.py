"""The README's worked example queries, kept here so tests and benchmarks run the same SQL."""

EXAMPLE_QUERIES: dict[str, str] = {
    "pass rate by category": """
        SELECT category, count(*) AS pairs,
               avg(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS pass_rate
        FROM latest GROUP BY category ORDER BY category""",
    "worst 20 by preservation": """
        SELECT pair_id, category, preserve_ssim, preserve_psnr, output_image
        FROM latest WHERE status = 'succeeded'
        ORDER BY preserve_ssim ASC NULLS LAST LIMIT 20""",
    "failures by error type": """
        SELECT error_type, count(*) AS pairs, any_value(error_message) AS example
        FROM latest WHERE status = 'failed' GROUP BY error_type ORDER BY pairs DESC""",
    "runs compared": """
        SELECT run_id, count(*) AS rows,
               avg(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS pass_rate,
               median(preserve_ssim) AS median_preserve_ssim
        FROM results GROUP BY run_id ORDER BY run_id""",
    "outputs changed between two runs": """
        WITH ranked AS (SELECT run_id, dense_rank() OVER (ORDER BY run_id DESC) AS age FROM (SELECT DISTINCT run_id FROM results)),
             newest AS (SELECT r.* FROM results r JOIN ranked USING (run_id) WHERE age = 1),
             before AS (SELECT r.* FROM results r JOIN ranked USING (run_id) WHERE age = 2)
        SELECT n.pair_id, b.output_sha256 AS before_sha256, n.output_sha256 AS after_sha256
        FROM newest n JOIN before b USING (pair_id)
        WHERE n.output_sha256 IS DISTINCT FROM b.output_sha256
        ORDER BY n.pair_id LIMIT 1000""",
}
