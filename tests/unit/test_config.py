from __future__ import annotations

from pathlib import Path

import pytest

from reviewlake.core.config import load_config, override
from reviewlake.core.uris import to_uri
from reviewlake.errors import ConfigError


def test_defaults_file_then_config_file_then_overrides(tmp_path):
    extra = tmp_path / "my.yaml"
    extra.write_text("features:\n  max_len: 50\ntrain:\n  epochs: 9\n", encoding="utf-8")
    cfg = load_config(extra, ["train.epochs=2", "quality.enabled=false", "spark.conf.spark.sql.shuffle.partitions=3"])
    assert cfg.features.max_len == 50  # from the file
    assert cfg.train.epochs == 2  # override beats file
    assert cfg.quality.enabled is False  # YAML-typed
    assert cfg.spark.conf["spark.sql.shuffle.partitions"] == 3
    assert cfg.features.min_df == 2  # untouched default


def test_bad_override_and_missing_file_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_config(None, ["no-equals-sign"])
    with pytest.raises(ConfigError):
        load_config(tmp_path / "absent.yaml")


def test_uris():
    assert to_uri("s3a://bucket/lake") == "s3a://bucket/lake"
    assert to_uri("hdfs://nn:8020/lake/") == "hdfs://nn:8020/lake"
    assert to_uri("/tmp/x y/*.txt") == "file:/tmp/x y/*.txt"  # globs stay globs


def test_baseline_reg_param_grid_list_single_value_and_old_key():
    from reviewlake.train.baselines import reg_param_grid

    assert reg_param_grid(load_config().train) == [1e-5, 3e-5, 1e-4]  # reviewlake/conf/reviewlake.yaml
    assert reg_param_grid(load_config(None, ["train.logreg_reg_params=[0.5, 2]"]).train) == [0.5, 2.0]
    assert reg_param_grid(load_config(None, ["train.logreg_reg_params=0.3"]).train) == [0.3]
    assert reg_param_grid(load_config(None, ["train.logreg_reg_param=0.05"]).train) == [0.05]  # older key wins
    with pytest.raises(ConfigError):
        reg_param_grid(load_config(None, ["train.logreg_reg_params=[]"]).train)


def test_wide_lstm_needs_the_linear_models_it_starts_from():
    assert load_config().train.architecture == "wide_lstm"
    with pytest.raises(ConfigError, match="wide_lstm starts from the char_1_4gram"):
        load_config(None, ["train.tfidf_baseline=false"])
    assert load_config(None, ["train.tfidf_baseline=false", "train.architecture=lstm"]).train.architecture == "lstm"


def test_site_file_from_the_environment_sits_between_defaults_and_config_file(tmp_path, monkeypatch):
    site, own = tmp_path / "site.yaml", tmp_path / "own.yaml"
    site.write_text("train:\n  epochs: 7\n  seed: 1\nfeatures:\n  min_df: 5\n", encoding="utf-8")
    own.write_text("train:\n  epochs: 9\n", encoding="utf-8")
    monkeypatch.setenv("REVIEWLAKE_CONFIG", str(site))
    cfg = load_config(own, ["train.seed=3"])
    assert (cfg.train.epochs, cfg.train.seed, cfg.features.min_df) == (9, 3, 5)
    assert cfg.features.vocab_size == 30000  # untouched default
    monkeypatch.setenv("REVIEWLAKE_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="REVIEWLAKE_CONFIG"):
        load_config()


def test_values_come_back_typed_so_no_caller_casts():
    cfg = load_config(None, ["dedupe.threshold=1", "lock.wait_s=3", "features.max_len=80"])
    assert cfg.dedupe.threshold == 1.0 and isinstance(cfg.dedupe.threshold, float)
    assert isinstance(cfg.lock.wait_s, float) and cfg.features.max_len == 80
    assert load_config().features.max_len == "auto"
    assert load_config(None, ["train.label_issues=DROP"]).train.label_issues == "drop"
    signals = load_config(None, ["signals.min_cjk_share=1", "signals.template_min=5"]).signals
    assert signals.min_cjk_share == 1.0 and isinstance(signals.min_cjk_share, float) and signals.template_min == 5


@pytest.mark.parametrize(
    "override, named",
    [
        ("features.max_lenght=80", "unknown config key features.max_lenght"),
        ("clean.emotes=keep", "clean.emotes: 'keep' is not allowed (expected unwrap | drop)"),
        ("features.max_len_percentile=97", "expected 50 | 90 | 95 | 99"),
        ("dedupe.threshold=1.5", "dedupe.threshold: 1.5 is out of range (must be > 0 and <= 1)"),
        ("train.cnn_widths=[2, x]", "train.cnn_widths[1]"),
        ("quality.gold=3", "quality.gold: expected a section"),
        ("clean.min_chars=6000", "clean.min_chars > clean.max_chars"),
        ("lineage.transport=kafka", "lineage.transport: 'kafka' is not allowed (expected file | http | off)"),
        ("lineage.transport=http", "lineage.url: lineage.transport http needs the catalogue's URL"),
        ("train.label_issues=remove", "train.label_issues: 'remove' is not allowed (expected keep | drop)"),
        ("signals.max_char_rep_ratio=1.2", "signals.max_char_rep_ratio: 1.2 is out of range (must be >= 0 and <= 1)"),
        ("signals.template_min=0", "signals.template_min: 0 is out of range (must be >= 1)"),
        ("signals.rep_ngram=2.5", "signals.rep_ngram: 2.5 is not allowed (expected integer)"),
    ],
)
def test_a_mistake_names_the_key_and_what_it_accepts(override, named):
    with pytest.raises(ConfigError) as exc:
        load_config(None, [override])
    assert named in str(exc.value)


def test_the_defaults_file_sets_every_key_of_the_schema(tmp_path):
    import yaml

    from reviewlake.core import settings
    from reviewlake.core.config import DEFAULTS_FILE

    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    settings.build(data)  # every key present, every value allowed
    del data["dedupe"]["seed"]
    with pytest.raises(ConfigError, match="dedupe.seed is missing"):
        settings.build(data)


def test_the_configuration_reference_is_up_to_date():
    from pathlib import Path

    from reviewlake.core import config_doc

    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == config_doc.reference(), (
        "run: python -m reviewlake.core.config_doc > docs/configuration.md"
    )


def test_relative_paths_resolve_against_home_once_whatever_the_working_directory(tmp_path, monkeypatch):
    """Models, reports, the lakehouse and every other path key: absolute against ``home`` when the
    settings are built, so a later change of working directory (a scheduler's worker) moves nothing."""
    start, elsewhere = tmp_path / "start", tmp_path / "elsewhere"
    start.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(start)
    cfg = load_config(None, ["ingest.input=landing, s3a://b/in ,~/x/*.jsonl", "segment.stopwords=my/stop.txt"])
    assert cfg.home == str(start)  # default `.`: the working directory at start-up
    assert (cfg.lakehouse, cfg.models_dir, cfg.reports_dir) == tuple(
        str(start / d) for d in ("lakehouse", "models", "reports")
    )
    assert cfg.models_path == start / "models" and cfg.reports_path == start / "reports"
    assert cfg.spark.jars_dir == str(start / "jars") and cfg.spark.gpu.discovery_script == str(
        start / "conf" / "get_gpus_resources.sh"
    )
    assert cfg.ingest.inputs == [str(start / "landing"), "s3a://b/in", str(Path.home() / "x" / "*.jsonl")]
    assert cfg.segment.stopwords == str(start / "my" / "stop.txt") and cfg.segment.user_dict == "package:userdict.txt"
    monkeypatch.chdir(elsewhere)
    assert cfg.models_path == start / "models" and cfg.lakehouse_uri == f"file:{start / 'lakehouse'}"
    assert cfg.resolve("data/in") == str(start / "data" / "in") and cfg.resolve("hdfs://nn/in") == "hdfs://nn/in"

    home = tmp_path / "opt" / "reviewlake"
    cfg = load_config(None, [f"home={home}", "lakehouse=/abs/lake", "models_dir=file:/m", "reports_dir=../reports"])
    assert cfg.home == str(home) and cfg.models_dir == "file:/m" and cfg.models_path == Path("/m")
    assert (cfg.lakehouse, cfg.reports_dir, cfg.spark.jars_dir) == (
        "/abs/lake",
        str(tmp_path / "opt" / "reports"),
        str(home / "jars"),
    )
    assert override(cfg, ["models_dir=models"]).models_path == home / "models"  # rebuilt settings keep their home
    with pytest.raises(ConfigError, match="config key home"):
        load_config(None, ["home=hdfs://nn/x"])


def test_the_reference_shows_path_defaults_as_written():
    from reviewlake.core.config_doc import reference

    doc = reference()
    assert "| `models_dir` | path or URI; relative: under `home` | `./models` |" in doc
    assert "| `ingest.input` | path or URIs, comma separated; relative: under `home` | `./data/landing` |" in doc
    assert "| `home` | local folder; relative: under the working directory at start-up | `.` |" in doc


def test_under_leaves_uris_and_absolute_paths_alone():
    from reviewlake.core.uris import under

    for kept in ("s3a://b/lake", "hdfs://nn:8020/lake", "file:/abs/lake", "file:///abs/l", "package:x.txt", "/a/b", ""):
        assert under("/home/rl", kept) == kept
    assert under("/home/rl", "lake") == "/home/rl/lake"
    assert under("/home/rl", "./data/landing/*.jsonl") == "/home/rl/data/landing/*.jsonl"  # globs stay globs
    assert under("/home/rl", "../shared/models") == "/home/shared/models"
    assert under("/home/rl", "~/m") == str(Path.home() / "m")
    assert under("/home/rl", "file:lake") == "file:/home/rl/lake"  # a relative file: URI too


def test_the_same_settings_from_any_working_directory_once_home_is_given(tmp_path, monkeypatch):
    """A job started in two directories with the same ``home`` (``--conf`` or a config file naming
    it; a relative ``home`` is itself taken against the working directory) names the same files."""
    home, a, b = tmp_path / "rl", tmp_path / "a", tmp_path / "b"
    for d in (home, a, b):
        d.mkdir()
    own = tmp_path / "own.yaml"
    own.write_text(f"home: {home}\nmodels_dir: trained\ningest:\n  input: in1,hdfs://nn/in2\n", encoding="utf-8")
    seen = []
    for cwd in (a, b):
        monkeypatch.chdir(cwd)
        by_conf = load_config(None, [f"home={home}", "models_dir=trained", "ingest.input=in1,hdfs://nn/in2"])
        by_file = load_config(own)
        assert by_conf == by_file
        seen.append(by_conf)
    assert seen[0] == seen[1]
    cfg = seen[0]
    assert cfg.models_path == home / "trained" and cfg.reports_path == home / "reports"
    assert cfg.lakehouse_uri == f"file:{home / 'lakehouse'}"
    assert cfg.ingest.inputs == [str(home / "in1"), "hdfs://nn/in2"]
    monkeypatch.chdir(tmp_path)
    assert load_config(None, ["home=rl"]).home == str(home)  # relative home: against the working directory


def test_home_from_the_environment_is_only_a_default(tmp_path, monkeypatch):
    env_home, own = tmp_path / "env_home", tmp_path / "own.yaml"
    monkeypatch.setenv("REVIEWLAKE_HOME", str(env_home))
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg.home == str(env_home) and cfg.models_path == env_home / "models"
    assert load_config(None, ["home=other"]).models_path == tmp_path / "other" / "models"  # --conf wins
    own.write_text("home: from_file\n", encoding="utf-8")
    assert load_config(own).home == str(tmp_path / "from_file")  # so does any config file
    assert load_config(site=False).home == str(tmp_path)  # site=False: no environment


def test_a_job_writes_its_report_and_takes_its_lock_under_home_not_the_working_directory(tmp_path, monkeypatch):
    """The Airflow failure: a task run in the worker's directory looked for <worker cwd>/models/LATEST
    and wrote its reports there. With ``--conf home=`` (what the DAG passes) nothing depends on it."""
    from reviewlake.core import cli
    from reviewlake.core.job import RunContext
    from reviewlake.core.lock import lock_uri
    from reviewlake.jobs.clean_reviews import JOB as CLEAN
    from reviewlake.jobs.score_reviews import JOB as SCORE

    home, worker = tmp_path / "rl", tmp_path / "worker"
    worker.mkdir()
    monkeypatch.chdir(worker)
    args = SCORE.parser().parse_args(["--conf", f"home={home}", "--lakehouse", "lake", "--model-version", "latest"])
    cfg = cli.config_from_args(args)
    assert cfg.models_path == home / "models" and cfg.reports_path == home / "reports"
    assert cfg.lakehouse_uri == f"file:{home / 'lake'}" and lock_uri(cfg, "score_reviews").startswith(f"file:{home}/")
    with RunContext("score_reviews", cfg):
        pass
    assert (home / "reports" / "runs" / "score_reviews" / "latest.json").is_file()
    assert list(worker.iterdir()) == []
    args = CLEAN.parser().parse_args(["--conf", f"home={home}", "--input", "landing/*.txt", "--input", "s3a://b/in"])
    cfg = cli.config_from_args(args)
    assert [cfg.resolve(i) for i in args.input] == [str(home / "landing" / "*.txt"), "s3a://b/in"]


def test_the_run_state_digest_ignores_home_but_not_the_paths_it_resolved(tmp_path):
    import dataclasses

    from reviewlake.core.run_state import config_digest

    cfg = load_config(None, [f"home={tmp_path / 'a'}"])
    assert config_digest(dataclasses.replace(cfg, home=str(tmp_path / "elsewhere"))) == config_digest(cfg)
    assert config_digest(load_config(None, [f"home={tmp_path / 'b'}"])) != config_digest(cfg)  # another lakehouse
