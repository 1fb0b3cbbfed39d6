"""The sparse_enc dialect: encodings (typed attributes) and op builders."""
from mcusparse import _mcusparse_ext
from ._sparse_enc_ops_gen import *  # noqa: F401,F403
from ._sparse_enc_ops_gen import _Dialect  # noqa: F401

CSRAttr = _mcusparse_ext.CSRAttr
DCSRAttr = _mcusparse_ext.DCSRAttr
NMAttr = _mcusparse_ext.NMAttr
GSAttr = _mcusparse_ext.GSAttr
