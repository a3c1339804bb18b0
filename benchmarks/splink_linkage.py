"""splink (DuckDB backend) on a roster prepared by ``bench_linkage.py``: the comparison run.

    .venv-linkage/bin/python benchmarks/splink_linkage.py ROSTER.parquet PAIRS.parquet

Runs in its own venv (``pip install -r benchmarks/requirements-linkage.txt``): splink is
never a jamsos dependency. Writes the pairs with a match probability of 0.7 or more as
``a_rid``, ``b_rid``, ``score`` (100 x the probability) and prints, as one JSON line, the
seconds (wall, and CPU over all of DuckDB's threads) from loading the roster into DuckDB to
the predictions written, and the peak RSS.

The model is splink's standard one, set up as its documentation advises, on the same
normalised names jamsos compares:

- blocking comparable to jamsos': each NIK digit left out (a substitution anywhere), each
  pair of neighbouring NIK digits put in order (a transposition), birth date + phone, birth
  date + name, phone + name (jamsos also looks up a NIK one digit short or long, and blocks
  typos in the date part with the roster date instead of leaving a date digit out);
- comparisons: NIK (Damerau-Levenshtein 1, 2), name (splink's NameComparison:
  Jaro-Winkler 0.92 / 0.88 / 0.7, term frequencies on exact), birth date (splink's
  DateOfBirthComparison, term frequencies on exact), sex, phone, address (Jaro-Winkler
  0.95 / 0.85), kelurahan (exact, Jaro-Winkler 0.9);
- training: the prior from deterministic rules (same name, birth date and phone, or name,
  birth date and address; recall 0.7), u by random sampling (10 million pairs), m by EM in
  two sessions (blocked on phone, and on birth date + kecamatan).
"""

from __future__ import annotations

import json
import sys
import time


def peak_mib() -> float:
    """Peak resident memory of this process (VmHWM: not inherited across exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(roster: str, out: str) -> None:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    con.execute(f"create table roster as select * from read_parquet('{roster}')")
    db_api = DuckDBAPI(connection=con)
    data = db_api.register("roster")

    def left_out(p: int) -> str:  # the NIK without digit p (1-based)
        return f"substr(nik, 1, {p - 1}) || substr(nik, {p + 1})"

    def in_order(p: int) -> str:  # digits p and p+1 put in order
        a, b = f"substr(nik, {p}, 1)", f"substr(nik, {p + 1}, 1)"
        ordered = f"least({a}, {b}) || greatest({a}, {b})"
        return f"substr(nik, 1, {p - 1}) || {ordered} || substr(nik, {p + 2})"

    blocking = [block_on(left_out(p)) for p in range(1, 17)]
    blocking += [block_on(in_order(p)) for p in range(1, 16)]
    blocking += [
        block_on("birth_date", "phone"),
        block_on("birth_date", "name"),
        block_on("phone", "name"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("nik", [1, 2]),
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
            cl.JaroWinklerAtThresholds("kelurahan", [0.9]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(data, settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date", "phone"), block_on("name", "birth_date", "address")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=14)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "substr(nik, 1, 6)")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.7)
    relation = predictions.as_duckdbpyrelation()
    relation.select(
        "unique_id_l::BIGINT as a_rid, unique_id_r::BIGINT as b_rid, "
        "round(100 * match_probability, 1) as score"
    ).write_parquet(out)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak_mib()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
