"""Innovation vouchers (科技创新券): a city runs a programme with a budget and eligibility rules kept as data;
it issues vouchers to eligible small firms; a firm spends a voucher on a used booking at a provider in any of
the region's cities, up to the voucher's share of the fee; the provider claims the money and the issuing city
settles it.

A balance is taken down by one conditional update (``balance >= amount``), so two redemptions at once can never
spend the same money twice or leave a negative balance; a check constraint says so again in the database. A
booking is paid by one redemption at most (a unique key). Every step is audited in its own transaction."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ulid import ULID

from zhulian.access import Principal, visibility
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.model import record_label
from zhulian.region.cities import CITIES, CITY_BY_ADCODE
from zhulian.sharing.service import DONE_STATES, SharingService, is_number
from zhulian.sharing.tables import programs, redemptions, vouchers
from zhulian.store import now

SIZES = {"micro": ("微型", "micro"), "small": ("小型", "small"), "medium": ("中型", "medium"),
         "large": ("大型", "large")}
ENTERPRISE_TYPES = {"sme": ("科技型中小企业", "technology-based SME"), "high_tech": ("高新技术企业", "high-tech enterprise"),
                    "startup": ("初创企业", "start-up"), "other": ("其他企业", "other enterprise")}
REDEMPTION_STATES = {"redeemed": ("已使用", "redeemed"), "claimed": ("已申领", "claimed"),
                     "settled": ("已结算", "settled")}
MAX_YUAN = 100_000_000


class Rules(BaseModel):
    """Who may receive a programme's vouchers; an empty list admits every value."""

    model_config = ConfigDict(extra="forbid")

    enterprise_types: list[Annotated[str, Field(pattern="^(" + "|".join(ENTERPRISE_TYPES) + ")$")]] = []
    sizes: list[Annotated[str, Field(pattern="^(" + "|".join(SIZES) + ")$")]] = ["micro", "small", "medium"]
    cities: list[Annotated[str, Field(pattern=r"^\d{6}$")]] = []  # the firm's city; empty: the issuing city only


class VoucherService:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.bookings = SharingService(store)

    # -- programmes and issuing ----------------------------------------------------------------------

    def create_program(self, principal: Principal, *, city: str, year: int, name: str, budget: float, share: float,
                       rules: dict[str, Any] | None = None, origin: str | None = None) -> dict[str, Any]:
        _check_city_official(principal, city)
        problems = []
        if city not in CITY_BY_ADCODE:
            problems.append(Problem("city", city, "a city of the region (adcode)", "应为大湾区城市代码"))
        if not (isinstance(year, int) and 2000 <= year <= 2100):
            problems.append(Problem("year", year, "a year from 2000 to 2100", "年度应为 2000 至 2100"))
        if not (name or "").strip() or len(name) > 200:
            problems.append(Problem("name", name, "1 to 200 characters", "名称应为 1 至 200 个字符"))
        problems += _money_problems("budget", budget)
        if not (is_number(share) and 0 < share <= 1):
            problems.append(Problem("share", share, "more than 0 and at most 1 (the part of a fee a voucher pays)",
                                    "抵扣比例应大于 0 且不超过 1"))
        try:
            checked = Rules.model_validate(rules or {})
        except ValidationError as error:
            problems += [Problem("rules." + ".".join(str(p) for p in item["loc"]), item.get("input"), item["msg"],
                                 f"资格规则不合法：{item['msg']}") for item in error.errors(include_url=False)]
        if problems:
            raise invalid(problems)
        row = {"id": f"vpg_{ULID()}", "city": city, "year": year, "name": name.strip(), "budget_fen": _fen(budget),
               "issued_fen": 0, "share": float(share), "rules": checked.model_dump(), "created": now()}
        with self.store.transaction() as writer:
            writer.connection.execute(programs.insert().values(**row))
            writer.log(actor=principal.id, role=principal.role, action="voucher_program", origin=origin,
                       detail={"program": row["id"], "city": city, "budget_fen": row["budget_fen"]})
        return _program(row)

    def programs(self, *, city: str | None = None, year: int | None = None) -> list[dict[str, Any]]:
        statement = sa.select(programs).order_by(programs.c.year.desc(), programs.c.created.desc())
        if city:
            statement = statement.where(programs.c.city == city)
        if year:
            statement = statement.where(programs.c.year == year)
        with self.store.engine.connect() as connection:
            return [_program(dict(row)) for row in connection.execute(statement).mappings()]

    def issue(self, principal: Principal, program_id: str, *, firm: str, amount: float, size: str,
              enterprise_type: str, origin: str | None = None) -> dict[str, Any]:
        """A voucher for an eligible firm, taken from the programme's remaining budget."""
        program = self._one(programs, program_id, "programme", "创新券计划")
        _check_city_official(principal, program["city"])
        org = self.store.get(firm, visible=visibility(principal))
        problems = _money_problems("amount", amount)
        if org["type"] != "organization" or org.get("kind") != "enterprise":
            problems.append(Problem("firm", firm, "vouchers go to enterprises (an organisation record of kind "
                                    "enterprise)", "创新券只发给企业（机构类型为企业的机构记录）"))
        rules = Rules.model_validate(program["rules"])
        cities = rules.cities or [program["city"]]
        if org.get("city") not in cities:
            problems.append(Problem("firm", org.get("city"), f"the firm's city must be one of {', '.join(cities)}",
                                    f"企业所在城市须为 {'、'.join(_city_zh(c) for c in cities)} 之一"))
        if rules.sizes and size not in rules.sizes:
            problems.append(Problem("size", size, f"this programme admits {', '.join(rules.sizes)} firms",
                                    f"本计划只支持{'、'.join(SIZES[s][0] for s in rules.sizes)}企业"))
        if enterprise_type not in ENTERPRISE_TYPES or (rules.enterprise_types
                                                        and enterprise_type not in rules.enterprise_types):
            allowed = rules.enterprise_types or list(ENTERPRISE_TYPES)
            problems.append(Problem("enterprise_type", enterprise_type, f"one of {', '.join(allowed)}",
                                    f"本计划支持的企业类型：{'、'.join(ENTERPRISE_TYPES[t][0] for t in allowed)}"))
        if problems:
            raise invalid(problems)
        stamp, amount_fen = now(), _fen(amount)
        row = {"id": f"vch_{ULID()}", "program_id": program["id"], "city": program["city"], "firm": org["id"],
               "firm_name": record_label(org)[:200], "firm_city": org.get("city"), "amount_fen": amount_fen,
               "balance_fen": amount_fen, "share": program["share"], "created": stamp, "updated": stamp}
        with self.store.transaction() as writer:
            taken = writer.connection.execute(programs.update().where(
                programs.c.id == program["id"], programs.c.issued_fen + amount_fen <= programs.c.budget_fen).values(
                issued_fen=programs.c.issued_fen + amount_fen))
            if taken.rowcount != 1:
                left = self._one(programs, program_id, "programme", "创新券计划", writer.connection)
                raise conflict(f"The programme's budget has {_yuan(left['budget_fen'] - left['issued_fen'])} yuan "
                               "left, less than the voucher.",
                               f"该计划剩余预算 {_yuan(left['budget_fen'] - left['issued_fen'])} 元，不足以发放此券。")
            writer.connection.execute(vouchers.insert().values(**row))
            writer.log(actor=principal.id, role=principal.role, action="voucher_issue", record_id=org["id"],
                       origin=origin, detail={"voucher": row["id"], "program": program["id"], "amount_fen": amount_fen})
        return _voucher(row)

    # -- spending, claiming, settling ----------------------------------------------------------------

    def redeem(self, principal: Principal, voucher_id: str, booking_id: str, *, amount: float | None = None,
               origin: str | None = None) -> dict[str, Any]:
        """Pay part of a used booking's fee with a voucher of the booking's organisation: at most the voucher's
        share of the fee and at most its balance; nothing changes when either is exceeded."""
        voucher = self._one(vouchers, voucher_id, "voucher", "创新券")
        booking = self.bookings.get(principal, booking_id)  # the booker's or the host's to see
        if booking["user_id"] != principal.id and not principal.is_admin:
            raise ZhulianError("forbidden", "Only the user who booked spends a voucher on it.",
                               "只有预约的用户可以用创新券支付。", 403)
        problems = []
        if booking["state"] not in DONE_STATES:
            problems.append(Problem("booking", booking_id, "vouchers pay for used (completed) bookings",
                                    "创新券只能用于已完成的预约"))
        if booking["organization"] != voucher["firm"]:
            problems.append(Problem("booking", booking_id, "the booking was not made for the voucher's firm",
                                    "该预约不是创新券持有企业的预约"))
        limit_fen = int(round((booking["fee"] or 0) * 100) * voucher["share"])
        amount_fen = limit_fen if amount is None else _fen(amount)
        if amount is not None:
            problems += _money_problems("amount", amount)
        if not problems and amount_fen > limit_fen:
            problems.append(Problem("amount", _yuan(amount_fen), f"at most {voucher['share']:.0%} of the fee: "
                                    f"{_yuan(limit_fen)} yuan", f"最多抵扣费用的 {voucher['share']:.0%}，即 {_yuan(limit_fen)} 元"))
        if not problems and amount_fen <= 0:
            problems.append(Problem("amount", _yuan(amount_fen), "nothing to pay", "没有可抵扣的金额"))
        if problems:
            raise invalid(problems)
        stamp = now()
        row = {"id": f"rdm_{ULID()}", "voucher_id": voucher["id"], "booking_id": booking_id, "amount_fen": amount_fen,
               "issuing_city": voucher["city"], "provider_city": booking["city"], "provider_node": booking["node"],
               "year": int(booking["start_local"][:4]), "state": "redeemed", "created": stamp, "claimed_at": None,
               "settled_at": None}
        try:
            with self.store.transaction() as writer:
                spent = writer.connection.execute(vouchers.update().where(
                    vouchers.c.id == voucher["id"], vouchers.c.balance_fen >= amount_fen).values(
                    balance_fen=vouchers.c.balance_fen - amount_fen, updated=stamp))
                if spent.rowcount != 1:
                    raise self._short_of(writer.connection, voucher["id"], amount_fen)
                writer.connection.execute(redemptions.insert().values(**row))
                writer.log(actor=principal.id, role=principal.role, action="voucher_redeem",
                           record_id=booking["instrument_id"], origin=origin,
                           detail={"voucher": voucher["id"], "redemption": row["id"], "booking": booking_id,
                                   "amount_fen": amount_fen})
        except sa.exc.IntegrityError:
            if self._redemption_of(booking_id) is None:
                raise
            raise conflict("This booking is already paid with a voucher.", "该预约已使用创新券支付。") from None
        return _redemption(row)

    def claim(self, principal: Principal, redemption_id: str, *, origin: str | None = None) -> dict[str, Any]:
        """The provider's node asks the issuing city for the money."""
        row = self._one(redemptions, redemption_id, "redemption", "创新券使用记录")
        if not _acts_for(principal, row["provider_node"]):
            raise ZhulianError("forbidden", "The provider's node claims a redemption.", "由服务提供方所在节点申领。", 403)
        return self._advance(principal, row, "redeemed", {"state": "claimed", "claimed_at": now()}, "voucher_claim",
                             origin)

    def settle(self, principal: Principal, redemption_id: str, *, origin: str | None = None) -> dict[str, Any]:
        """The issuing city pays a claimed redemption."""
        row = self._one(redemptions, redemption_id, "redemption", "创新券使用记录")
        if not _acts_for(principal, row["issuing_city"]):
            raise ZhulianError("forbidden", "The issuing city settles a redemption.", "由发券城市结算。", 403)
        return self._advance(principal, row, "claimed", {"state": "settled", "settled_at": now()}, "voucher_settle",
                             origin)

    def voucher(self, principal: Principal, voucher_id: str) -> dict[str, Any]:
        voucher = self._one(vouchers, voucher_id, "voucher", "创新券")
        if principal.role == "anonymous":
            raise ZhulianError("unauthorized", "Sign in to see a voucher.", "查看创新券需要先登录。", 401)
        with self.store.engine.connect() as connection:
            spent = connection.execute(sa.select(redemptions).where(redemptions.c.voucher_id == voucher_id)
                                       .order_by(redemptions.c.created)).mappings().all()
        return {**_voucher(voucher), "redemptions": [_redemption(dict(r)) for r in spent]}

    def flows(self, *, year: int | None = None, settled_only: bool = False) -> dict[str, Any]:
        """Which city's vouchers paid providers in which city: rows are issuing cities, columns providers' cities,
        cells yuan."""
        statement = sa.select(redemptions.c.issuing_city, redemptions.c.provider_city,
                              sa.func.sum(redemptions.c.amount_fen).label("fen"),
                              sa.func.count().label("count")).group_by(redemptions.c.issuing_city,
                                                                       redemptions.c.provider_city)
        if year:
            statement = statement.where(redemptions.c.year == year)
        if settled_only:
            statement = statement.where(redemptions.c.state == "settled")
        with self.store.engine.connect() as connection:
            cells = {(r.issuing_city, r.provider_city): (int(r.fen), r.count) for r in connection.execute(statement)}
        codes = [city.adcode for city in CITIES]
        extra = sorted({c for pair in cells for c in pair if c and c not in codes})
        codes += extra
        cities = [{"key": code, "name": _city_names(code)} for code in codes]
        matrix = [[_yuan(cells.get((a, b), (0, 0))[0]) for b in codes] for a in codes]
        counts = [[cells.get((a, b), (0, 0))[1] for b in codes] for a in codes]
        total = sum(fen for fen, _n in cells.values())
        across = sum(fen for (a, b), (fen, _n) in cells.items() if a != b)
        return {"year": year, "settled_only": settled_only, "cities": cities, "matrix": matrix, "counts": counts,
                "total": _yuan(total), "across_cities": _yuan(across), "unit": {"zh": "元", "en": "yuan"}}

    # -- helpers -------------------------------------------------------------------------------------

    def _one(self, table: sa.Table, key: str, what: str, what_zh: str,
             connection: sa.Connection | None = None) -> dict[str, Any]:
        """A row by id, read on the given connection (a transaction's own, so that it needs no second one from
        the pool while it holds a lock) or on a new one."""
        if connection is None:
            with self.store.engine.connect() as connection:
                return self._one(table, key, what, what_zh, connection)
        row = connection.execute(sa.select(table).where(table.c.id == key)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No {what} {key!r}.", f"找不到{what_zh} {key!r}。", 404)
        return dict(row)

    def _redemption_of(self, booking_id: str) -> str | None:
        with self.store.engine.connect() as connection:
            return connection.execute(sa.select(redemptions.c.id).where(
                redemptions.c.booking_id == booking_id)).scalar_one_or_none()

    def _short_of(self, connection: sa.Connection, voucher_id: str, amount_fen: int) -> ZhulianError:
        balance = self._one(vouchers, voucher_id, "voucher", "创新券", connection)["balance_fen"]
        return ZhulianError("insufficient", f"The voucher has {_yuan(balance)} yuan left, less than "
                            f"{_yuan(amount_fen)}; nothing was spent.",
                            f"创新券余额 {_yuan(balance)} 元，不足 {_yuan(amount_fen)} 元，未作任何扣减。", 409,
                            [Problem("amount", _yuan(amount_fen), f"at most the balance, {_yuan(balance)} yuan",
                                     f"不能超过余额 {_yuan(balance)} 元")])

    def _advance(self, principal: Principal, row: dict[str, Any], expected: str, changes: dict[str, Any],
                 action: str, origin: str | None) -> dict[str, Any]:
        if row["state"] != expected:
            raise conflict(f"A {row['state']} redemption cannot become {changes['state']}.",
                           f"{REDEMPTION_STATES[row['state']][0]}的记录不能变为{REDEMPTION_STATES[changes['state']][0]}。")
        with self.store.transaction() as writer:
            done = writer.connection.execute(redemptions.update().where(
                redemptions.c.id == row["id"], redemptions.c.state == expected).values(**changes))
            if done.rowcount != 1:
                raise conflict("The redemption changed meanwhile; reload it.", "该记录已被他人更改，请刷新。")
            writer.log(actor=principal.id, role=principal.role, action=action, origin=origin,
                       detail={"redemption": row["id"], "voucher": row["voucher_id"], "amount_fen": row["amount_fen"]})
        return _redemption({**row, **changes})


def _check_city_official(principal: Principal, city: str) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Sign in or send an API key (Authorization: Bearer KEY) first.",
                           "请先登录或使用 API 密钥（Authorization: Bearer 密钥）。", 401)
    if not _acts_for(principal, city):
        raise ZhulianError("forbidden", f"Only the publishers of city node {city} (or an administrator) run its "
                           "voucher programmes.", f"只有城市节点 {city} 的发布者（或管理员）可以管理该市的创新券。", 403)


def _acts_for(principal: Principal, node: str | None) -> bool:
    return principal.is_admin or (principal.role == "publisher" and node is not None and principal.node == node)


def _money_problems(field: str, value: Any) -> list[Problem]:
    if not (is_number(value) and 0 < value <= MAX_YUAN):
        return [Problem(field, value, f"more than 0 and at most {MAX_YUAN} yuan", f"金额应大于 0 且不超过 {MAX_YUAN} 元")]
    if round(value * 100) != round(value * 100, 6):
        return [Problem(field, value, "whole fen (two decimals at most)", "金额最多两位小数")]
    return []


def _fen(yuan: float) -> int:
    return round(yuan * 100)


def _yuan(fen: int) -> float:
    return fen / 100


def _city_names(code: str | None) -> dict[str, str]:
    city = CITY_BY_ADCODE.get(code or "")
    return {"zh": city.zh, "en": city.en} if city else {"zh": code or "未知", "en": code or "unknown"}


def _city_zh(code: str) -> str:
    return _city_names(code)["zh"]


def _program(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if not k.endswith("_fen")}, "budget": _yuan(row["budget_fen"]),
            "issued": _yuan(row["issued_fen"]), "remaining": _yuan(row["budget_fen"] - row["issued_fen"])}


def _voucher(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if not k.endswith("_fen")}, "amount": _yuan(row["amount_fen"]),
            "balance": _yuan(row["balance_fen"])}


def _redemption(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if not k.endswith("_fen")}, "amount": _yuan(row["amount_fen"]),
            "state_display": {"zh": REDEMPTION_STATES[row["state"]][0], "en": REDEMPTION_STATES[row["state"]][1]}}
