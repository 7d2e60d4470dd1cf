"""Values of the ported pure functions for keys the tests choose (`python3 -m par_torch
port-values`): the TypeScript originals compute the same keys and compare bit for bit."""

from __future__ import annotations

from .data import synthesize
from .dropout_mask import dropout_mask
from .hashing import hash_key, str_hash
from .init import init_region
from .regions import Region


def port_values(req: dict) -> dict:
    out: dict = {}
    out["strHash"] = [str_hash(s) for s in req.get("strHash", [])]
    out["hashKey"] = [hash_key(*keys) for keys in req.get("hashKey", [])]
    out["init"] = [
        init_region(c["spec"], int(c["seed"]), c["param"], list(c["shape"]), Region.of(c["region"])).reshape(-1).tolist()
        for c in req.get("init", [])
    ]
    out["data"] = [
        synthesize(c["tensor"], c.get("teacher"), int(c["seed"]), int(c["step"]), Region.of(c["region"])).reshape(-1).tolist()
        for c in req.get("data", [])
    ]
    out["dropout"] = [
        dropout_mask(list(c["shape"]), Region.of(c["region"]), float(c["p"]), int(c["seed"])).reshape(-1).tolist()
        for c in req.get("dropout", [])
    ]
    return out
