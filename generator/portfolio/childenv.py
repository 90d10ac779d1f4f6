"""The environment a child process sees: one policy for runs, the warm worker and previews.

An allowlist, not a denylist: a script's log is published with the site, and a name such
as ``KAGGLE_KEY``, ``DATABASE_URL`` or ``SIGNING_KEY`` slips past any pattern of secret
words. A child gets what an interpreter, a locale, the numeric libraries and the deep
learning frameworks read, the proxy and certificate settings a download needs, and the
variables its ``project.yaml`` names under ``env:``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

# Exact names an interpreter, a shell tool, the locale or a temporary file needs.
_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "TEMP", "TMP", "LD_LIBRARY_PATH", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
    "XDG_DATA_HOME", "MPLBACKEND", "MPLCONFIGDIR", "MATPLOTLIBRC", "NO_COLOR",
    "FORCE_COLOR", "COLUMNS", "SSL_CERT_FILE", "SSL_CERT_DIR", "NO_MKDOCS_2_WARNING",
})
# Families: the interpreter, the locale, thread pools and numeric libraries, frameworks.
_PREFIXES = ("LC_", "PYTHON", "PORTFOLIO_", "OMP_", "OPENBLAS_", "MKL_", "NUMEXPR_",
             "VECLIB_", "BLIS_", "GOTO", "KMP_", "CUDA", "NVIDIA_", "TF_", "KERAS_", "XLA_",
             "JAX_", "TORCH_", "SKLEARN_", "JOBLIB_", "LOKY_")


# The network's settings: a script behind a corporate proxy downloads its data set, its
# pretrained weights, through them. A proxy URL may hold a password: the owner set it for
# exactly this, so it passes (portfolio never prints a variable's value).
_NETWORK = frozenset({
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
    "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
})

# Even inside an allowed family, a name that says it holds a credential stays out: by a
# word anywhere in it, or by one of its ``_``-separated parts (``PASS`` is a credential in
# ``PYTHON_DB_PASS``, not in ``KERAS_PASSTHROUGH``).
_SECRET = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|"
                     r"AUTH|COOKIE|SESSION", re.IGNORECASE)
_SECRET_PARTS = frozenset({"PASS", "PWD", "DSN", "CONN", "CONNSTR", "CONNECTION", "PASSPHRASE"})
# Terraform's input variables (``TF_VAR_db_password``): what a deployment passes, secrets
# included, under TensorFlow's ``TF_`` family.
_SECRET_PREFIXES = ("TF_VAR_",)
# A URL with a password in it (``postgres://user:pw@host``), whatever the name says.
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s@:]*:[^/\s@]+@", re.IGNORECASE)


def allowed(name: str, value: str = "") -> bool:
    """Whether the policy passes ``name`` (holding ``value``) to a child without being
    asked."""
    if name in _NETWORK:
        return True
    if not (name in _NAMES or name.startswith(_PREFIXES)):
        return False
    return not (_SECRET.search(name) or name.upper().startswith(_SECRET_PREFIXES)
                or _SECRET_PARTS.intersection(name.upper().split("_"))
                or _URL_WITH_PASSWORD.search(value))


def child_environment(extra: Iterable[str] = (),
                      source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allowed variables of ``source`` (this process's environment), plus the names in
    ``extra`` that a project asked for (``env:`` in its ``project.yaml``)."""
    source = os.environ if source is None else source
    wanted = set(extra)
    return {k: v for k, v in source.items() if k in wanted or allowed(k, v)}
