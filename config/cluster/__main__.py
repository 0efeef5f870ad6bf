"""python -m config.cluster up|down|status [--name parley] [--subnet 10.77.0]"""

import argparse
import sys

from .cluster import Cluster, missing_programs


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m config.cluster", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--name", default="parley", help="prefix of everything it makes")
    parser.add_argument("--subnet", default="10.77.0", help="the cluster's /24, first 3 bytes")
    parser.add_argument(
        "--redis",
        choices=["sentinel", "primary"],
        default="sentinel",
        help="apps find Redis through the Sentinels (the default) or go to the first "
        "primary directly",
    )
    parser.add_argument("--loopback", action="store_true", help="no namespaces: ports on 127.0.0.1")
    args = parser.parse_args()
    sentinel = args.redis == "sentinel"
    cluster = Cluster(args.name, args.subnet, sentinel=sentinel, loopback=args.loopback)
    if args.action == "down":
        cluster.down()
        print(f"Cluster {args.name!r} is down: processes, namespaces, bridge and files removed.")
    elif args.action == "status":
        states = cluster.status()
        if not states:
            print(f"Cluster {args.name!r} is not up.")
            return 1
        for name, state in states.items():
            print(f"  {name:10} {state}")
    else:
        if missing := missing_programs():
            print("Missing: " + ", ".join(missing), file=sys.stderr)
            return 1
        cluster.up()
        summary(cluster)
    return 0


def summary(cluster: Cluster) -> None:
    plan = cluster.plan
    if cluster.fallback_reason:
        print(f"No network namespaces ({cluster.fallback_reason}): every host is 127.0.0.1")
        print("with a port of its own.")
    else:
        print(f"One network namespace per host, on {plan.subnet} (this machine: {plan.gateway}).")
    redis = (
        "through the Sentinels"
        if cluster.sentinel
        else "at redis1 directly (they would not follow a failover)"
    )
    rows = [("proxy", "nginx", plan.proxy.where)]
    rows += [(name, "manage.py serve", app.where) for name, app in plan.apps.items()]
    rows += [
        (name, "Redis, " + ("primary" if name == "redis1" else "replica"), redis_service.where)
        for name, redis_service in plan.redis.items()
    ]
    rows += [
        (sentinel.host.name, f"Sentinel {n}", sentinel.where)
        for n, sentinel in enumerate(plan.sentinels, 1)
    ]
    rows.append(("db", "PostgreSQL", plan.db.where))
    for host, what, where in rows:
        print(f"  {host:8} {what:17} {where}")
    print(f"Apps reach Redis {redis}. Logs and data: {cluster.dir}")
    print(f"Open {plan.url}  (make cluster-down removes it all)")


if __name__ == "__main__":
    sys.exit(main())
