"""Rebuild the demo sample from ``../shared/data`` (run from the repository root when the selection changes):

    python src/zhulian/demo_data/build_sample.py ../shared/data

Not imported by the application. The selection is mechanical and repeatable: the universities of the nine PRD
cities from the MoE list; the CSL papers and KPPatent-ZH patents whose title, abstract or keywords name one of
the region's industries (``TOPICS``), in file order, up to a cap; patents with a title, without their claims
(size). Rows
are copied as they are, so the built-in mappings ``moe-universities``, ``csl`` and ``kppatent`` read them.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
PRD_CITIES = {"广州市", "深圳市", "珠海市", "佛山市", "惠州市", "东莞市", "中山市", "江门市", "肇庆市"}
# The region's industries as the seed document names them: new energy and batteries, new materials, electronics
# and integrated circuits, intelligent manufacturing and robots, communications, biomedicine, finance.
TOPICS = ("电池", "锂", "石墨烯", "储能", "新能源", "光伏", "氢", "电动汽车", "新材料", "复合材料", "纳米",
          "半导体", "集成电路", "芯片", "传感器", "机器人", "无人机", "数控", "自动化", "神经网络", "人工智能",
          "通信", "5G", "物联网", "生物医药", "药物", "疫苗", "金融", "科技创新", "协同创新", "广东", "深圳",
          "广州", "香港", "澳门", "珠三角", "珠江")
MAX_PAPERS = 900
MAX_PATENTS = 420


def _on_topic(*texts: str) -> bool:
    text = " ".join(texts)
    return any(topic in text for topic in TOPICS)


def universities(data: Path) -> None:
    with (data / "universities" / "moe_hei_list_2017.csv").open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["province_gb_prefix"] == "44" and row["city"] in PRD_CITIES]
        fields = reader.fieldnames
    with (HERE / "prd_universities.csv").open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def papers(data: Path) -> None:
    """Whole lines copied byte for byte: the sample reads exactly as the source file does."""
    lines = (data / "csl" / "csl_full_fields_union.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, columns = lines[0], lines[0].rstrip("\n").split("\t")
    chosen = [line for line in lines[1:] if _on_topic(*(dict(zip(columns, line.rstrip("\n").split("\t")))
                                                        .get(c, "") for c in ("title", "abstract", "keywords")))]
    (HERE / "csl_papers.tsv").write_text(header + "".join(chosen[:MAX_PAPERS]), encoding="utf-8")


def patents(data: Path) -> None:
    with (data / "patents" / "kppatent_zh_test_696.jsonl").open(encoding="utf-8") as source:
        rows = [row for row in map(json.loads, filter(str.strip, source)) if row.get("title")]  # a patent has a title
    chosen = [row for row in rows if _on_topic(row["title"], row["abstract"], " ".join(row["keyphrases"]))]
    chosen += [row for row in rows if row not in chosen]
    with (HERE / "kppatent_patents.jsonl").open("w", encoding="utf-8") as target:
        for row in chosen[:MAX_PATENTS]:
            kept = {key: value for key, value in row.items() if key != "claims"}
            target.write(json.dumps(kept, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    universities(folder)
    papers(folder)
    patents(folder)
