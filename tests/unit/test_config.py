from __future__ import annotations

import pytest

from reviewlake.core.config import load_config, to_uri
from reviewlake.errors import ConfigError


def test_defaults_file_then_config_file_then_overrides(tmp_path):
    extra = tmp_path / "my.yaml"
    extra.write_text("features:\n  max_len: 50\ntrain:\n  epochs: 9\n", encoding="utf-8")
    cfg = load_config(extra, ["train.epochs=2", "quality.enabled=false", "spark.conf.spark.sql.shuffle.partitions=3"])
    assert cfg["features.max_len"] == 50          # from the file
    assert cfg["train.epochs"] == 2               # override beats file
    assert cfg["quality.enabled"] is False        # YAML-typed
    assert cfg["spark.conf"]["spark.sql.shuffle.partitions"] == 3
    assert cfg["features.min_df"] == 2            # untouched default


def test_bad_override_and_missing_file_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_config(None, ["no-equals-sign"])
    with pytest.raises(ConfigError):
        load_config(tmp_path / "absent.yaml")


def test_uris():
    assert to_uri("s3a://bucket/lake") == "s3a://bucket/lake"
    assert to_uri("hdfs://nn:8020/lake/") == "hdfs://nn:8020/lake"
    assert to_uri("/tmp/x y/*.txt") == "file:/tmp/x y/*.txt"   # globs stay globs


def test_baseline_reg_param_grid_list_single_value_and_old_key():
    from reviewlake.jobs.train_model import reg_param_grid

    assert reg_param_grid(load_config()) == [0.0, 0.01, 0.1, 0.3, 1.0, 3.0]      # reviewlake/conf/reviewlake.yaml
    assert reg_param_grid(load_config(None, ["train.logreg_reg_params=[0.5, 2]"])) == [0.5, 2.0]
    assert reg_param_grid(load_config(None, ["train.logreg_reg_params=0.3"])) == [0.3]
    assert reg_param_grid(load_config(None, ["train.logreg_reg_param=0.05"])) == [0.05]   # older key wins
    with pytest.raises(ConfigError):
        reg_param_grid(load_config(None, ["train.logreg_reg_params=[]"]))


def test_site_file_from_the_environment_sits_between_defaults_and_config_file(tmp_path, monkeypatch):
    site, own = tmp_path / "site.yaml", tmp_path / "own.yaml"
    site.write_text("train:\n  epochs: 7\n  seed: 1\nfeatures:\n  min_df: 5\n", encoding="utf-8")
    own.write_text("train:\n  epochs: 9\n", encoding="utf-8")
    monkeypatch.setenv("REVIEWLAKE_CONFIG", str(site))
    cfg = load_config(own, ["train.seed=3"])
    assert (cfg["train.epochs"], cfg["train.seed"], cfg["features.min_df"]) == (9, 3, 5)
    assert cfg["features.vocab_size"] == 30000    # untouched default
    monkeypatch.setenv("REVIEWLAKE_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="REVIEWLAKE_CONFIG"):
        load_config()
