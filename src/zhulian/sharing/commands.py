"""``zhulian sharing …``: thin over the sharing and voucher services, acting as the local command line (an
administrator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, new_table, open_store, out, print_json
from zhulian.errors import Problem, invalid


def _service() -> Any:
    from zhulian.sharing.service import SharingService

    return SharingService(open_store())


def _vouchers() -> Any:
    from zhulian.sharing.vouchers import VoucherService

    return VoucherService(open_store())


def _origin() -> str:
    import socket

    return socket.gethostname()


def register(app: typer.Typer) -> None:
    sharing = typer.Typer(help="仪器共享与创新券 / Shared instruments, bookings and innovation vouchers",
                          no_args_is_help=True)
    voucher = typer.Typer(help="科技创新券 / Innovation vouchers", no_args_is_help=True)

    @sharing.command("profile")
    @bilingual_errors
    def profile(instrument: str, path: Annotated[Path, typer.Argument(help="服务档案 JSON 文件 the profile as JSON")],
                as_json: JsonFlag = False) -> None:
        """发布仪器服务档案 / Publish an instrument's services, fees, operators and opening hours."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise invalid([Problem("file", str(path), f"not readable JSON: {error}", "无法读取为 JSON 文件")],
                          "file") from None
        saved = _service().set_profile(CLI_ADMIN, instrument, data, origin=_origin())
        if as_json:
            print_json(saved)
            return
        out.print(f"{saved['instrument']['name']}: {len(saved['profile']['services'])} 项服务 services",
                  highlight=False, markup=False)

    @sharing.command("book")
    @bilingual_errors
    def book(instrument: str, start: Annotated[str, typer.Option(help="开始 start, ISO 8601 (北京时间 if no offset)")],
             end: Annotated[str, typer.Option(help="结束 end")],
             service: Annotated[str, typer.Option(help="服务代码 service code")],
             purpose: Annotated[str, typer.Option(help="用途 purpose")],
             samples: Annotated[int, typer.Option(help="样品数 samples")] = 0,
             organization: Annotated[str | None, typer.Option(help="预约单位 organisation record id")] = None,
             as_json: JsonFlag = False) -> None:
        """预约仪器 / Book a slot."""
        _show(_service().book(CLI_ADMIN, instrument, start=start, end=end, service=service, samples=samples,
                              purpose=purpose, organization=organization, origin=_origin()), as_json)

    @sharing.command("confirm")
    @bilingual_errors
    def confirm(booking: str, as_json: JsonFlag = False) -> None:
        """确认预约 / Confirm a requested booking."""
        _show(_service().confirm(CLI_ADMIN, booking, origin=_origin()), as_json)

    @sharing.command("refuse")
    @bilingual_errors
    def refuse(booking: str, reason: Annotated[str, typer.Option(help="原因 reason")], as_json: JsonFlag = False) -> None:
        """拒绝预约 / Refuse a requested booking, with a reason."""
        _show(_service().refuse(CLI_ADMIN, booking, reason, origin=_origin()), as_json)

    @sharing.command("cancel")
    @bilingual_errors
    def cancel(booking: str, reason: Annotated[str, typer.Option(help="原因 reason")], as_json: JsonFlag = False) -> None:
        """取消预约 / Cancel a booking that has not begun, with a reason."""
        _show(_service().cancel(CLI_ADMIN, booking, reason, origin=_origin()), as_json)

    @sharing.command("complete")
    @bilingual_errors
    def complete(booking: str, hours: Annotated[float, typer.Option(help="使用机时 hours used")],
                 samples: Annotated[int | None, typer.Option(help="样品数 samples run")] = None,
                 as_json: JsonFlag = False) -> None:
        """登记使用并计费 / Record the use; the fee follows from the rate."""
        _show(_service().complete(CLI_ADMIN, booking, hours=hours, samples=samples, origin=_origin()), as_json)

    @sharing.command("rate")
    @bilingual_errors
    def rate(booking: str, rating: Annotated[int, typer.Option(help="评分 1–5")],
             comment: Annotated[str | None, typer.Option(help="评价 comment")] = None, as_json: JsonFlag = False) -> None:
        """评价服务 / Rate a completed booking."""
        _show(_service().rate(CLI_ADMIN, booking, rating, comment, origin=_origin()), as_json)

    @sharing.command("report")
    @bilingual_errors
    def report(year: Annotated[int, typer.Option(help="年度 year")],
               city: Annotated[str | None, typer.Option(help="城市 adcode")] = None,
               xlsx: Annotated[Path | None, typer.Option(help="导出 Excel 文件 write an XLSX file")] = None,
               as_json: JsonFlag = False) -> None:
        """开放共享年度评价 / The yearly open-sharing evaluation, per city and for the region."""
        from zhulian.sharing.charts import report_xlsx
        from zhulian.sharing.evaluation import yearly_report

        body = yearly_report(open_store(), year, city)
        if xlsx:
            xlsx.write_bytes(report_xlsx(body))
        if as_json:
            print_json(body)
            return
        table = new_table("城市 city", "仪器 instruments", "有效机时 hours", "对外机时 external", "占比 share",
                      "收入 income", "评分 rating", title=f"{year} 开放共享评价 open-sharing evaluation")
        for item in [*body["cities"], {**body["region"], "name": {"zh": "合计 total"}}]:
            table.add_row(item["name"]["zh"], str(item["instruments"]), f"{item['hours']:g}",
                          f"{item['external_hours']:g}", f"{item['external_share']:.0%}", f"{item['income']:,.2f}",
                          "" if item["rating"] is None else f"{item['rating']:.2f}")
        out.print(table)

    @voucher.command("program")
    @bilingual_errors
    def program(city: Annotated[str, typer.Option(help="发券城市 issuing city adcode")],
                year: Annotated[int, typer.Option(help="年度 year")],
                name: Annotated[str, typer.Option(help="名称 name")],
                budget: Annotated[float, typer.Option(help="预算（元）budget, yuan")],
                share: Annotated[float, typer.Option(help="最高抵扣比例 the most of a fee a voucher pays, 0–1")] = 0.5,
                rules: Annotated[str | None, typer.Option(help='资格规则 JSON, e.g. {"sizes": ["small"]}')] = None,
                as_json: JsonFlag = False) -> None:
        """设立创新券计划 / Set up a city's voucher programme."""
        try:
            parsed = json.loads(rules) if rules else None
        except json.JSONDecodeError as error:
            raise invalid([Problem("rules", rules, f"not JSON: {error}", "资格规则不是合法的 JSON")]) from None
        made = _vouchers().create_program(CLI_ADMIN, city=city, year=year, name=name, budget=budget, share=share,
                                          rules=parsed, origin=_origin())
        if as_json:
            print_json(made)
            return
        out.print(f"{made['id']}: {made['name']} {made['budget']:,.2f} 元", highlight=False, markup=False)

    @voucher.command("issue")
    @bilingual_errors
    def issue(program_id: str, firm: Annotated[str, typer.Option(help="企业 organisation id")],
              amount: Annotated[float, typer.Option(help="面额（元）amount, yuan")],
              size: Annotated[str, typer.Option(help="规模 micro | small | medium | large")],
              enterprise_type: Annotated[str, typer.Option("--type", help="类型 sme | high_tech | startup | other")],
              as_json: JsonFlag = False) -> None:
        """发放创新券 / Issue a voucher to an eligible firm."""
        made = _vouchers().issue(CLI_ADMIN, program_id, firm=firm, amount=amount, size=size,
                                 enterprise_type=enterprise_type, origin=_origin())
        if as_json:
            print_json(made)
            return
        out.print(f"{made['id']}: {made['firm_name']} {made['amount']:,.2f} 元", highlight=False, markup=False)

    @voucher.command("redeem")
    @bilingual_errors
    def redeem(voucher_id: str, booking: Annotated[str, typer.Option(help="已完成的预约 a completed booking")],
               amount: Annotated[float | None, typer.Option(help="金额（元）; 默认可抵扣的最高额")] = None,
               as_json: JsonFlag = False) -> None:
        """使用创新券 / Spend a voucher on a completed booking."""
        _show_redemption(_vouchers().redeem(CLI_ADMIN, voucher_id, booking, amount=amount, origin=_origin()), as_json)

    @voucher.command("claim")
    @bilingual_errors
    def claim(redemption: str, as_json: JsonFlag = False) -> None:
        """服务机构申领 / The provider claims a redemption."""
        _show_redemption(_vouchers().claim(CLI_ADMIN, redemption, origin=_origin()), as_json)

    @voucher.command("settle")
    @bilingual_errors
    def settle(redemption: str, as_json: JsonFlag = False) -> None:
        """发券城市结算 / The issuing city settles a claimed redemption."""
        _show_redemption(_vouchers().settle(CLI_ADMIN, redemption, origin=_origin()), as_json)

    @voucher.command("flows")
    @bilingual_errors
    def flows(year: Annotated[int | None, typer.Option(help="年度 year")] = None,
              xlsx: Annotated[Path | None, typer.Option(help="导出 Excel 文件 write an XLSX file")] = None,
              as_json: JsonFlag = False) -> None:
        """创新券跨市流向矩阵 / Which city's vouchers paid providers in which city."""
        from zhulian.sharing.charts import flows_xlsx

        body = _vouchers().flows(year=year)
        if xlsx:
            xlsx.write_bytes(flows_xlsx(body))
        if as_json:
            print_json(body)
            return
        out.print(f"合计 total {body['total']:,.2f} 元 yuan, 跨市 across cities {body['across_cities']:,.2f} 元",
                  highlight=False, markup=False)

    relay = typer.Typer(help="跨节点预约 / Forwarding bookings to the instrument's node", no_args_is_help=True)

    @relay.command("add")
    @bilingual_errors
    def relay_add(node: Annotated[str, typer.Argument(help="源节点代码 the origin node's adcode")],
                  url: Annotated[str, typer.Argument(help="源节点网址 its base URL")],
                  key: Annotated[str, typer.Option(help="源节点发给本节点的读者密钥 the reader key it issued")]) -> None:
        """登记源节点：该节点仪器的预约转发过去 / Forward bookings of a node's instruments to it."""
        from zhulian.sharing.relay import add_relay

        added = add_relay(open_store(), CLI_ADMIN, node, url, key)
        out.print(f"{added['node']} → {added['url']}", highlight=False, markup=False)

    @relay.command("pull")
    @bilingual_errors
    def relay_pull() -> None:
        """取回源节点的决定 / Bring back the origins' decisions on forwarded bookings now."""
        out.print(f"{_service().pull_decisions()} 项更新 changes applied", highlight=False, markup=False)

    sharing.add_typer(voucher, name="voucher")
    sharing.add_typer(relay, name="relay")
    app.add_typer(sharing, name="sharing")


def _show(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(item)
        return
    fee = f" 费用 fee {item['fee']:,.2f} 元" if item.get("fee") is not None else ""
    out.print(f"{item['id']}: {item['state_display']['zh']} {item['state']} — {item['start_local']} – "
              f"{item['end_local'][11:]} {item['service']}{fee}", highlight=False, markup=False)


def _show_redemption(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(item)
        return
    out.print(f"{item['id']}: {item['state_display']['zh']} {item['state']} — {item['amount']:,.2f} 元",
              highlight=False, markup=False)
