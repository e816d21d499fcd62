"""``flask seed-demo``: the demo community, hand-written (devtools/demo.py) or synthetic at scale (devtools/seed.py)."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from core.accounts import Account
from core.cli import with_schema
from core.extensions import db
from devtools.demo import DEMO_PASSWORD, seed_demo
from devtools.seed import SYNTHETIC_FROM, BrandExists, brand_exists, seed_synthetic

@click.command("seed-demo")
@click.option("--members", default=36, show_default=True,
              help=f"Member accounts. From {SYNTHETIC_FROM:,} on, a synthetic community (graph.synthetic) written in bulk.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same demo).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@with_schema
def seed_demo_command(members: int, seed: int, if_empty: bool) -> None:
    """Build a demo community: hand-written for small sizes, synthetic at scale (``--members 100000``)."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Account)):
        click.echo("The database already has accounts; nothing seeded.")
        return
    if members < SYNTHETIC_FROM:
        if brand_exists("Northwind Outdoor Co."):
            raise BrandExists("The demo brand 'Northwind Outdoor Co.' already exists; nothing seeded.")
        brand = seed_demo(members=members, seed=seed)
        click.echo(f"Seeded brand {brand.name!r} with {members} members. Log in as admin@demo.example / {DEMO_PASSWORD}")
        return
    result = seed_synthetic(members, seed=seed, progress=lambda step: click.echo(f"  {step}", err=True))
    stored = ", ".join(f"{n:,} {table}" for table, n in result.rows.items() if n)
    click.echo(f"Seeded brand {result.brand_id} ({members:,} synthetic members) in {result.seconds:.1f} s: {stored}. "
               f"Log in as admin@demo.example or analyst@demo.example / {DEMO_PASSWORD}")
