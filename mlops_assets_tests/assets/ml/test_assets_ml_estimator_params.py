"""Estimator constructor defaults read from source (never imported) match the real classes."""

import importlib
import inspect
import textwrap
from pathlib import Path

import pytest
from sklearn.utils import all_estimators

from mlops_assets.assets.ml.estimator_params import estimator_defaults


def _literal_defaults(cls: type) -> dict[str, object]:
    """The defaults the reader can know: literal scalars (not NaN, not numpy scalars)."""
    params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    return {
        p.name: p.default
        for p in params
        if type(p.default) in (bool, int, float, str) and p.default == p.default
    }


@pytest.mark.parametrize(
    "path",
    [
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.HistGradientBoostingRegressor",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.svm.SVC",
    ],
)
def test_the_estimators_the_configs_use_have_every_literal_default(path: str) -> None:
    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    expected = _literal_defaults(cls)
    assert expected and estimator_defaults(path) == expected


def test_no_scikit_learn_estimator_gets_a_wrong_default() -> None:
    """Every default read from source is the class's real default, by defining module and by
    the public package that re-exports it; defaults it cannot know (inherited ``__init__``, a
    named constant) are left out, never guessed, and they are the exception."""
    complete = checked = 0
    for name, cls in all_estimators():
        expected = _literal_defaults(cls)
        public = ".".join(cls.__module__.split(".")[:2])
        for path in (f"{cls.__module__}.{name}", f"{public}.{name}"):
            found = estimator_defaults(path)
            exported = getattr(importlib.import_module(public), name, None) is cls
            if path == f"{public}.{name}" and not exported:
                continue  # not exported there
            assert {k: expected.get(k, "<not a literal>") for k in found} == found, path
            checked += 1
            complete += found == expected
    assert checked > 300
    assert complete >= 0.95 * checked, f"only {complete} of {checked} read completely"


def test_a_class_whose_lines_leave_its_indentation_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docstring line at column 0 ends the class's text early: the whole module is parsed."""
    package = tmp_path / "ep_fixture_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from ep_fixture_pkg._impl import Odd, Plain\n")
    (package / "_impl.py").write_text(
        textwrap.dedent(
            '''
            class Odd:
                """Docs.

            Flush-left text inside the docstring.
                """

                def __init__(self, alpha=0.5, name="x", *, flag=True, skip=object()):
                    pass


            class Plain(
                Odd,
            ):
                def __init__(self, depth=3):
                    pass
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert estimator_defaults("ep_fixture_pkg.Odd") == {"alpha": 0.5, "name": "x", "flag": True}
    assert estimator_defaults("ep_fixture_pkg._impl.Plain") == {"depth": 3}
    assert estimator_defaults("ep_fixture_pkg.Missing") == {}
