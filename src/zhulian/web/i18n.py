"""The portal's words in Chinese and English. Chinese is the default; the choice persists in a cookie."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("zh", "en")
COOKIE = "zhulian_lang"

WORDS: dict[str, tuple[str, str]] = {
    "site": ("珠联 · 珠三角科技协同创新平台", "Zhulian · PRD S&T Collaborative Innovation Platform"),
    "brand": ("珠联", "Zhulian"),
    "home": ("首页", "Home"),
    "search": ("检索", "Search"),
    "search_placeholder": ("检索机构、专家、成果、专利、平台、政策……", "Search organisations, experts, patents, platforms, policies…"),
    "collaboration": ("协同创新", "Collaboration"),
    "policies": ("政策目标", "Policy targets"),
    "data": ("数据交换", "Data exchange"),
    "match": ("技术对接", "Find technology"),
    "network": ("协同网络", "Network"),
    "indicators": ("指标进展", "Indicators"),
    "switch": ("English", "中文"),
    "region": ("区域：九市与港澳", "The region: nine cities, Hong Kong and Macao"),
    "region_note": ("“1+1+7”：广州、深圳为龙头，珠海、佛山、惠州、东莞、中山、江门、肇庆协同；三大创新圈：广佛肇、深莞惠、珠中江。",
                    "“1+1+7”: Guangzhou and Shenzhen lead; Zhuhai, Foshan, Huizhou, Dongguan, Zhongshan, Jiangmen and "
                    "Zhaoqing follow; three innovation circles: Guangzhou–Foshan–Zhaoqing, Shenzhen–Dongguan–Huizhou, "
                    "Zhuhai–Zhongshan–Jiangmen."),
    "resources": ("资源概况", "What the platform holds"),
    "records": ("条记录", "records"),
    "city": ("城市", "City"),
    "role": ("定位", "Role"),
    "circle": ("创新圈", "Circle"),
    "count": ("记录数", "Records"),
    "fields": ("字段", "Fields"),
    "relations": ("关系", "Relations"),
    "revisions": ("版本", "Revisions"),
    "provenance": ("来源", "Provenance"),
    "lead_units": ("牵头单位", "Lead units"),
    "partner_units": ("协同单位", "Partner units"),
    "directions": ("研究方向", "Research directions"),
    "targets": ("量化目标", "Numeric targets"),
    "indicator": ("指标", "Indicator"),
    "target": ("目标", "Target"),
    "year": ("年份", "Year"),
    "clause": ("原文", "Clause"),
    "issuer": ("发布机构", "Issuer"),
    "issued": ("发布日期", "Issued"),
    "no_results": ("没有找到匹配的记录。", "Nothing matched."),
    "results": ("条结果", "results"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "not_found": ("找不到该页面或记录", "Page or record not found"),
    "back_home": ("返回首页", "Back to the home page"),
    "api": ("接口", "API"),
    "all_types": ("全部类型", "All types"),
    "aspirational": ("力争", "aspirational"),
    "node": ("发布节点", "Node"),
    "created": ("创建", "Created"),
    "updated": ("更新", "Updated"),
    "identifiers": ("外部标识", "Identifiers"),
    "signin": ("登录", "Sign in"),
    "signout": ("退出", "Sign out"),
    "api_key": ("API 密钥", "API key"),
    "signin_note": ("发布者与管理员用管理员签发的 API 密钥登录，以上传数据。",
                    "Publishers and administrators sign in with the API key an administrator issued them, to upload data."),
    "signed_in_as": ("已登录：", "Signed in as "),
    "templates": ("模板下载", "Templates"),
    "templates_note": ("每个模板含表头、一行示例；XLSX 另有说明页（每列含义、是否必填、可选值）。",
                       "Each template has the header row and one example row; XLSX adds a notes sheet (meaning, "
                       "required or not, allowed values)."),
    "export": ("数据导出", "Export"),
    "upload": ("上传导入", "Upload and import"),
    "type": ("类型", "Type"),
    "file": ("文件（CSV、TSV、XLSX、JSON、JSONL）", "File (CSV, TSV, XLSX, JSON, JSONL)"),
    "skip_invalid": ("跳过无效行，只导入有效行", "Skip invalid rows and import the valid ones"),
    "clear_empty": ("空单元格清空该字段（默认空单元格不改动任何内容）",
                    "An empty cell clears its field (by default an empty cell changes nothing)"),
    "changed_rows": ("有改动的行", "Rows that changed records"),
    "changed_fields": ("改动的字段", "Fields changed"),
    "cleared_fields": ("清空的字段", "Fields cleared"),
    "import_button": ("导入", "Import"),
    "report": ("导入报告", "Import report"),
    "row": ("行", "Row"),
    "record": ("记录", "Record"),
    "column": ("列", "Column"),
    "value": ("值", "Value"),
    "reason": ("原因", "Reason"),
    "created_n": ("新建", "Created"),
    "updated_n": ("更新", "Updated"),
    "unchanged_n": ("未变", "Unchanged"),
    "invalid_n": ("无效", "Invalid"),
    "publishers_only": ("上传需要以发布者或管理员身份登录。", "Uploading needs a publisher or administrator sign-in."),
    "jobs": ("我的作业", "My jobs"),
    "job": ("作业", "Job"),
    "jobs_note": ("通过接口（Prefer: respond-async）提交的导入等长任务在后台运行，可在此查看状态、进度与报告。",
                  "Long work such as imports sent through the API with Prefer: respond-async runs in the "
                  "background; its state, progress and report are here."),
    "no_jobs": ("还没有作业。", "No jobs yet."),
    "jobs_signin": ("登录后可查看您提交的作业。", "Sign in to see the jobs you submitted."),
    "kind": ("任务", "Kind"),
    "state": ("状态", "State"),
    "progress": ("进度", "Progress"),
    "submitted": ("提交时间", "Submitted"),
    "finished": ("结束时间", "Finished"),
    "state_queued": ("排队中", "queued"),
    "state_running": ("运行中", "running"),
    "state_succeeded": ("已完成", "succeeded"),
    "state_failed": ("失败", "failed"),
    "kind_import": ("导入", "import"),
    "refreshes": ("本页每 3 秒自动刷新，直至作业结束。", "This page refreshes every 3 seconds until the job ends."),
}


def language(request: Request) -> str:
    chosen = request.cookies.get(COOKIE, "zh")
    return chosen if chosen in LANGUAGES else "zh"


def words(lang: str) -> dict[str, str]:
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in WORDS.items()}


def pick(names: dict | None, lang: str) -> str:
    """A multilingual name in the reader's language, falling back to whatever the record has."""
    if not names:
        return ""
    order = ("zh", "zh_hant", "en") if lang == "zh" else ("en", "zh", "zh_hant")
    return next((names[k] for k in order if names.get(k)), "")


def half(label: str, lang: str) -> str:
    """One language of a bilingual model title such as "专利号 number"."""
    zh, _, en = label.partition(" ")
    return (zh if lang == "zh" else en) or label
