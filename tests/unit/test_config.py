from __future__ import annotations

import pytest

from reviewlake.core.config import load_config
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
