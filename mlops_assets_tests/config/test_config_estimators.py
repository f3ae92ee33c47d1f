"""Estimators come from an allow-listed family (scikit-learn, LightGBM, XGBoost) or from the
use case's own `allowed_estimators`; the check reads source files and imports nothing."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlops_assets.config.estimators import (
    family_problem,
    import_estimator_class,
    locate_problem,
)
from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import (
    environ_for,
    line_of,
    load_error,
    load_use_case,
    only_problem,
    write_use_case,
)
from mlops_assets_tests.config.custom_estimator import MeanClassifier
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT

CUSTOM = "mlops_assets_tests.config.custom_estimator.MeanClassifier"


def _with_estimator(configs: Path, estimator: str, allowed: list[str] | None = None) -> Path:
    data = load_use_case(configs)
    data["model"]["flavor"] = {"type": "sklearn", "estimator": estimator}
    if allowed is not None:
        data["model"]["allowed_estimators"] = allowed
    return write_use_case(configs, data)


@pytest.mark.parametrize(
    "estimator",
    ["os.system", "subprocess.Popen", "builtins.eval", "mlops_assets.cli.reset.Reset"],
)
def test_an_estimator_outside_the_allowed_families_is_rejected_at_load(
    configs_copy: Path, data_dir: Path, estimator: str
) -> None:
    path = _with_estimator(configs_copy, estimator)
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.key_path == "model.flavor.estimator"
    assert problem.line == line_of(path, f"estimator: {estimator}")
    assert "is not in an allowed family" in problem.message
    assert "allowed_estimators" in problem.fix


def test_the_allow_list_holds_for_a_model_validated_alone() -> None:
    shipped = load_use_case(CONFIGS_DIR)["model"]
    data: dict[str, Any] = {**shipped, "flavor": {"type": "sklearn", "estimator": "os.system"}}
    data["gates"] = {**shipped["gates"], "mode": "enabled"}  # no ${VAR} substitution here
    with pytest.raises(ValidationError, match="not in an allowed family"):
        ModelConfig.model_validate(data)


@pytest.mark.parametrize(
    ("estimator", "message", "fix"),
    [
        (
            "sklearn.ensemble.HistGradientBoostingClassifer",
            "module `sklearn.ensemble` has no class `HistGradientBoostingClassifer`",
            "did you mean `sklearn.ensemble.HistGradientBoostingClassifier`?",
        ),
        (
            "sklearn.ensembl.RandomForestClassifier",
            "module `sklearn.ensembl` of estimator",
            "did you mean `sklearn.ensemble.RandomForestClassifier`?",
        ),
        (
            "lightgbm.LGBMClasifier",
            "module `lightgbm` has no class `LGBMClasifier`",
            "did you mean `lightgbm.LGBMClassifier`?",
        ),
        ("sklearn.ensemble.randomForest", "does not name a class", "allowed_estimators"),
    ],
)
def test_a_misspelt_estimator_fails_at_load_with_a_suggestion(
    configs_copy: Path, data_dir: Path, estimator: str, message: str, fix: str
) -> None:
    _with_estimator(configs_copy, estimator)
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.key_path == "model.flavor.estimator"
    assert message in problem.message
    assert fix in problem.fix


def test_a_listed_class_of_your_own_is_allowed(configs_copy: Path, data_dir: Path) -> None:
    _with_estimator(configs_copy, CUSTOM, allowed=[CUSTOM])
    uc = load_project(configs_copy, environ=environ_for(data_dir)).use_case("churn")
    assert uc.model is not None and uc.model.allowed_estimators == [CUSTOM]
    assert import_estimator_class(CUSTOM, uc.model.allowed_estimators) is MeanClassifier


def test_an_unlisted_class_of_your_own_is_rejected(configs_copy: Path, data_dir: Path) -> None:
    _with_estimator(configs_copy, CUSTOM, allowed=[])
    problem = only_problem(load_error(configs_copy, data_dir))
    assert "is not in an allowed family" in problem.message


def test_a_listed_class_must_exist_and_be_a_class(configs_copy: Path, data_dir: Path) -> None:
    misspelt = CUSTOM.replace("MeanClassifier", "MeanClasifier")
    _with_estimator(configs_copy, misspelt, allowed=[misspelt])
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.fix == f"did you mean `{CUSTOM}`?"
    function = CUSTOM.replace("MeanClassifier", "not_a_class")
    _with_estimator(configs_copy, function, allowed=[function])
    err = load_error(configs_copy, data_dir)
    assert err.context["key_path"] == "model.allowed_estimators.0"
    assert "should match pattern" in err.message


def test_family_rules() -> None:
    assert family_problem("sklearn.linear_model.LogisticRegression", []) is None
    assert family_problem("xgboost.XGBClassifier", []) is None
    assert family_problem("lightgbm.sklearn.LGBMRegressor", []) is None
    assert "allowed family" in (family_problem("numpy.Generator", []) or "")
    assert family_problem("numpy.Generator", ["numpy.Generator"]) is None
    assert "does not name a class" in (family_problem("os.system", ["os.system"]) or "")
    assert locate_problem("sklearn.linear_model.LogisticRegression") is None
    assert locate_problem("sklearn.dummy.DummyClassifier") is None  # a class defined there


def test_at_run_time_only_estimator_classes_are_imported() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    cls = import_estimator_class("sklearn.ensemble.HistGradientBoostingClassifier", [])
    assert cls is HistGradientBoostingClassifier
    with pytest.raises(ConfigError, match="is not an estimator class"):
        import_estimator_class("sklearn.utils.Bunch", [])  # a dict, not an estimator
    with pytest.raises(ConfigError, match="not in an allowed family"):
        import_estimator_class("os.system", [])


def test_loading_the_config_imports_no_estimator_library(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from mlops_assets.config.project import load_project\n"
        f"load_project(environ={{'MLOPS_DATA_DIR': {str(tmp_path)!r}}})\n"
        "heavy = ('sklearn', 'lightgbm', 'xgboost', 'scipy')\n"
        "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules} & set(heavy))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
