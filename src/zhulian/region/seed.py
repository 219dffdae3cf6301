"""Seed records for the Pearl River Delta (珠三角) collaborative-innovation region.

Source: the seed brief ``000_630e50ae92f037f8`` (珠三角科技协同创新基本介绍, material from 2014–2016).
Every fact here (names, dates, numbers, units, web addresses) is carried over from that text; the
descriptions are our own short summaries, and each policy target's ``clause`` quotes the fragment of the
source that states it. Records refer to one another through local keys (``ref:<key>``) and each record
appears after every record it refers to, so the list can be loaded in order.

来源：种子文档《珠三角科技协同创新基本介绍》。事实（名称、日期、数字、单位、网址）照录原文；
简介为自行概括；政策指标的 ``clause`` 字段为原文摘录。记录之间以 ``ref:<键>`` 相互引用，被引用者在前。
"""

RECORDS: list[dict] = [
    # ------------------------------------------------------------------------------------------------
    # Organisations — universities (MoE codes from the 2017 全国普通高等学校名单)
    # ------------------------------------------------------------------------------------------------
    {
        "type": "organization",
        "pids": {"ref": "org-gdufe", "moe": "4144010592"},
        "name": {"zh": "广东财经大学", "en": "Guangdong University of Finance and Economics"},
        "kind": "university",
        "city": "440100",
        "aliases": ["广财", "GDUFE", "广东商学院"],
        "website": "http://www.gdufe.edu.cn",
        "description": {
            "zh": "位于广州的财经类高校，牵头组建珠三角科技金融产业协同创新发展中心，"
                  "并承建广东省电子商务技术市场应用重点实验室。",
            "en": "A Guangzhou university of finance and economics that set up the PRD science-technology-finance "
                  "collaborative innovation centre and hosts a provincial e-commerce key laboratory.",
        },
        "keywords": ["科技金融", "财经", "电子商务"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-jnu", "moe": "4144010559"},
        "name": {"zh": "暨南大学", "en": "Jinan University"},
        "kind": "university",
        "city": "440100",
        "aliases": ["暨大", "JNU"],
        "website": "http://www.jnu.edu.cn",
        "description": {
            "zh": "广州的综合性大学，是珠三角品牌战略协同创新中心的核心协同单位，"
                  "其产业经济研究院参与科技金融协同创新。",
            "en": "A comprehensive university in Guangzhou; core partner of the PRD brand-strategy centre, "
                  "and its industrial-economics institute works with the sci-tech finance centre.",
        },
        "keywords": ["品牌战略", "产业经济"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sysu", "moe": "4144010558"},
        "name": {"zh": "中山大学", "en": "Sun Yat-sen University"},
        "kind": "university",
        "city": "440100",
        "aliases": ["中大", "SYSU"],
        "website": "http://www.sysu.edu.cn",
        "description": {
            "zh": "广州的综合性研究型大学，下属金融工程与风险管理研究中心参与珠三角科技金融协同创新。",
            "en": "A research university in Guangzhou whose financial engineering and risk management centre "
                  "takes part in the PRD sci-tech finance collaboration.",
        },
        "keywords": ["金融工程", "风险管理"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gafa", "moe": "4144010586"},
        "name": {"zh": "广州美术学院", "en": "Guangzhou Academy of Fine Arts"},
        "kind": "university",
        "city": "440100",
        "aliases": ["广美", "GAFA"],
        "website": "http://www.gzarts.edu.cn",
        "description": {
            "zh": "广州的美术类高校，作为牵头单位与暨南大学共建珠三角品牌战略协同创新中心。",
            "en": "A Guangzhou fine-arts academy that leads, together with Jinan University, the PRD "
                  "brand-strategy collaborative innovation centre.",
        },
        "keywords": ["品牌战略", "广告", "设计"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gdut", "moe": "4144011845"},
        "name": {"zh": "广东工业大学", "en": "Guangdong University of Technology"},
        "kind": "university",
        "city": "440100",
        "aliases": ["广工", "GDUT"],
        "website": "http://www.gdut.edu.cn",
        "description": {
            "zh": "广州的工科大学，是东莞市横沥模具产业协同创新中心的依托高校之一。",
            "en": "An engineering university in Guangzhou and one of the backing institutions of the Hengli "
                  "mould-industry innovation centre in Dongguan.",
        },
        "keywords": ["模具", "制造"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-dgut", "moe": "4144011819"},
        "name": {"zh": "东莞理工学院", "en": "Dongguan University of Technology"},
        "kind": "university",
        "city": "441900",
        "aliases": ["莞工", "DGUT"],
        "website": "http://www.dgut.edu.cn",
        "description": {
            "zh": "东莞本地的理工科高校，为横沥模具产业协同创新中心提供技术与人才支撑。",
            "en": "Dongguan's own university of technology, which backs the Hengli mould-industry innovation "
                  "centre with expertise and graduates.",
        },
        "keywords": ["模具", "制造"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sjtu", "moe": "4131010248"},
        "name": {"zh": "上海交通大学", "en": "Shanghai Jiao Tong University"},
        "kind": "university",
        "city": "310100",
        "aliases": ["上海交大", "SJTU"],
        "website": "http://www.sjtu.edu.cn",
        "description": {
            "zh": "位于上海的研究型大学，以依托高校身份参与东莞横沥模具产业协同创新中心。",
            "en": "A Shanghai research university that backs the Hengli mould-industry innovation centre in "
                  "Dongguan.",
        },
        "keywords": ["模具", "制造"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-dhu", "moe": "4131010255"},
        "name": {"zh": "东华大学", "en": "Donghua University"},
        "kind": "university",
        "city": "310100",
        "aliases": ["DHU"],
        "website": "http://www.dhu.edu.cn",
        "description": {
            "zh": "上海的高校，是横沥模具产业协同创新中心的七家依托院校之一。",
            "en": "A Shanghai university, one of the seven institutions backing the Hengli mould-industry "
                  "innovation centre.",
        },
        "keywords": ["模具"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sspu", "moe": "4131012044"},
        "name": {"zh": "上海第二工业大学", "en": "Shanghai Polytechnic University"},
        "kind": "university",
        "city": "310100",
        "aliases": ["上海二工大", "SSPU"],
        "website": "http://www.sspu.edu.cn",
        "description": {
            "zh": "上海的应用型工科高校，作为依托单位支持横沥模具产业协同创新中心。",
            "en": "An applied engineering university in Shanghai supporting the Hengli mould-industry "
                  "innovation centre as a backing institution.",
        },
        "keywords": ["模具"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-polyu"},
        "name": {"zh": "香港理工大学", "en": "The Hong Kong Polytechnic University", "zh_hant": "香港理工大學"},
        "kind": "university",
        "city": "810000",
        "aliases": ["理大", "PolyU"],
        "website": "https://www.polyu.edu.hk",
        "description": {
            "zh": "香港的公立大学，2016年9月与金域检验签署学术合作与交流谅解备忘录。",
            "en": "A Hong Kong public university that signed an academic cooperation memorandum with KingMed "
                  "Diagnostics in September 2016.",
        },
        "keywords": ["粤港合作", "医学检验"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-hku"},
        "name": {"zh": "香港大学", "en": "The University of Hong Kong", "zh_hant": "香港大學"},
        "kind": "university",
        "city": "810000",
        "aliases": ["港大", "HKU"],
        "website": "https://www.hku.hk",
        "description": {
            "zh": "香港历史最悠久的大学之一，参与金域检验的粤港科研合作并签署合作备忘录。",
            "en": "One of Hong Kong's oldest universities; it joined KingMed Diagnostics' Guangdong–Hong Kong "
                  "research cooperation by signing a memorandum.",
        },
        "keywords": ["粤港合作", "医学检验"],
    },
    # ------------------------------------------------------------------------------------------------
    # Organisations — institutes and university sub-units
    # ------------------------------------------------------------------------------------------------
    {
        "type": "organization",
        "pids": {"ref": "org-jnu-iie"},
        "name": {"zh": "暨南大学产业经济研究院", "en": "Institute of Industrial Economics, Jinan University"},
        "kind": "institute",
        "city": "440100",
        "description": {
            "zh": "暨南大学下属的产业经济研究机构，是珠三角科技金融产业协同创新发展中心的协同单位。",
            "en": "Jinan University's industrial-economics research institute, a partner of the PRD sci-tech "
                  "finance collaborative innovation centre.",
        },
        "keywords": ["产业经济"],
        "relations": [{"predicate": "member_of", "object": "ref:org-jnu"}],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sysu-ferm"},
        "name": {
            "zh": "中山大学金融工程与风险管理研究中心",
            "en": "Research Center for Financial Engineering and Risk Management, Sun Yat-sen University",
        },
        "kind": "institute",
        "city": "440100",
        "description": {
            "zh": "中山大学的金融工程与风险管理研究机构，作为协同单位参与科技金融协同创新。",
            "en": "Sun Yat-sen University's centre for financial engineering and risk management, partnering in "
                  "the PRD sci-tech finance centre.",
        },
        "keywords": ["金融工程", "风险管理"],
        "relations": [{"predicate": "member_of", "object": "ref:org-sysu"}],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-szwn"},
        "name": {"zh": "深圳微纳研究院", "en": "Shenzhen Micro-Nano Research Institute"},
        "kind": "institute",
        "city": "440300",
        "description": {
            "zh": "深圳的微电子研究机构，其院长张国新担任深港微电子协同创新联盟联合理事长。",
            "en": "A Shenzhen microelectronics research institute whose president, Zhang Guoxin, co-chairs the "
                  "Shenzhen–Hong Kong microelectronics alliance.",
        },
        "keywords": ["微电子", "集成电路"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-astri"},
        "name": {
            "zh": "香港应用科技研究院",
            "en": "Hong Kong Applied Science and Technology Research Institute",
            "zh_hant": "香港應用科技研究院",
        },
        "kind": "institute",
        "city": "810000",
        "aliases": ["香港应用科学研究院", "应科院", "ASTRI"],
        "website": "https://www.astri.org",
        "description": {
            "zh": "香港的应用研发机构（种子文档写作“香港应用科学研究院”），副总裁廖家俊任深港微电子协同创新联盟联合理事长。",
            "en": "Hong Kong's applied R&D institute (written 香港应用科学研究院 in the source); its vice "
                  "president Liao Jiajun co-chairs the Shenzhen–Hong Kong microelectronics alliance.",
        },
        "keywords": ["微电子", "应用研发"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sh-edu-stdc"},
        "name": {
            "zh": "上海市教育委员会科技发展中心",
            "en": "Science and Technology Development Center, Shanghai Municipal Education Commission",
        },
        "kind": "other",
        "city": "310100",
        "description": {
            "zh": "上海市教育系统的科技服务机构，是横沥模具产业协同创新中心的七家依托院所之一。",
            "en": "A science and technology service body of Shanghai's education commission and one of the "
                  "seven backers of the Hengli mould-industry innovation centre.",
        },
        "keywords": ["模具", "科技服务"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-dg-hust-ime"},
        "name": {
            "zh": "东莞华中科技大学制造工程研究院",
            "en": "Dongguan Institute of Manufacturing Engineering, Huazhong University of Science and Technology",
        },
        "kind": "institute",
        "city": "441900",
        "description": {
            "zh": "设在东莞的制造工程研究机构，作为依托院所支撑横沥模具产业协同创新中心。",
            "en": "A manufacturing-engineering research institute in Dongguan that backs the Hengli "
                  "mould-industry innovation centre.",
        },
        "keywords": ["制造工程", "模具"],
    },
    # ------------------------------------------------------------------------------------------------
    # Organisations — enterprises and banks
    # ------------------------------------------------------------------------------------------------
    {
        "type": "organization",
        "pids": {"ref": "org-bank-of-guangzhou"},
        "name": {"zh": "广州银行", "en": "Bank of Guangzhou"},
        "kind": "bank",
        "city": "440100",
        "description": {
            "zh": "总部在广州的城市商业银行，其佛山分行参与珠三角科技金融协同创新。",
            "en": "A Guangzhou-based city commercial bank whose Foshan branch takes part in the PRD sci-tech "
                  "finance collaboration.",
        },
        "keywords": ["银行", "科技金融"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-bogz-foshan"},
        "name": {"zh": "广州银行佛山分行", "en": "Bank of Guangzhou Foshan Branch"},
        "kind": "bank",
        "city": "440600",
        "description": {
            "zh": "广州银行在佛山的分支机构，以金融力量协同参与珠三角科技金融产业协同创新发展中心。",
            "en": "The Foshan branch of Bank of Guangzhou, bringing banking capacity to the PRD sci-tech finance "
                  "collaborative innovation centre.",
        },
        "keywords": ["银行", "科技金融"],
        "relations": [{"predicate": "member_of", "object": "ref:org-bank-of-guangzhou"}],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-pci-group"},
        "name": {"zh": "广州佳都集团有限公司", "en": "Guangzhou Jiadu Group Co., Ltd."},
        "kind": "enterprise",
        "city": "440100",
        "aliases": ["佳都集团"],
        "description": {
            "zh": "广州的智能化系统企业，为莞惠城际轨道提供站台屏蔽门，其产业链分布在珠三角多个城市。",
            "en": "A Guangzhou intelligent-systems company that supplied platform screen doors for the "
                  "Dongguan–Huizhou intercity railway, with production spread over several PRD cities.",
        },
        "keywords": ["智能化系统", "轨道交通", "屏蔽门"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gsk-cnc"},
        "name": {"zh": "广州数控", "en": "GSK CNC Equipment Co., Ltd."},
        "kind": "enterprise",
        "city": "440100",
        "aliases": ["广州数控设备有限公司", "GSK"],
        "description": {
            "zh": "广州的数控与工业机器人企业，其机器人应用于佛山南海的志高空调生产线。",
            "en": "A Guangzhou maker of CNC systems and industrial robots whose robots work on Chigo's air-"
                  "conditioner lines in Nanhai, Foshan.",
        },
        "keywords": ["数控", "工业机器人", "智能制造"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-chigo"},
        "name": {"zh": "志高空调", "en": "Chigo Air Conditioning"},
        "kind": "enterprise",
        "city": "440600",
        "aliases": ["志高"],
        "description": {
            "zh": "在佛山南海设厂的空调制造商，引入广州数控机器人推进智能化生产，产品经广州南沙港出口。",
            "en": "An air-conditioner maker with a factory in Nanhai, Foshan, automated with GSK robots and "
                  "exporting through Guangzhou's Nansha port.",
        },
        "keywords": ["空调", "智能制造", "出口"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-cisco"},
        "name": {"zh": "思科", "en": "Cisco"},
        "kind": "enterprise",
        "aliases": ["思科系统", "Cisco Systems"],
        "website": "https://www.cisco.com",
        "description": {
            "zh": "跨国网络技术企业，将中国创新总部设在广州，在番禺的广州国际创新城建设智能制造云智慧城。",
            "en": "A multinational networking company that placed its China innovation headquarters in "
                  "Guangzhou and builds a smart-manufacturing cloud city in Panyu.",
        },
        "keywords": ["工业互联网", "智能制造", "云计算"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-kingmed"},
        "name": {"zh": "金域检验", "en": "KingMed Diagnostics"},
        "kind": "enterprise",
        "city": "440100",
        "aliases": ["金域医学", "KingMed"],
        "description": {
            "zh": "国内规模最大的第三方医学检验机构，2016年9月在香港发布粤港科研合作战略，并与美国多所高校共建研发中心。",
            "en": "China's largest third-party medical laboratory; in September 2016 it launched a Guangdong–"
                  "Hong Kong research strategy in Hong Kong, and it runs joint R&D centres with US universities.",
        },
        "keywords": ["医学检验", "基因组", "蛋白组", "粤港合作"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gd-railway-invest"},
        "name": {"zh": "广东省铁投集团", "en": "Guangdong Railway Construction Investment Group"},
        "kind": "enterprise",
        "city": "440100",
        "aliases": ["广东省铁路建设投资集团有限公司", "广东铁投"],
        "description": {
            "zh": "广东省属铁路建设投资企业，2016年9月与省住房和城乡建设厅座谈完善珠三角城际铁路网规划。",
            "en": "Guangdong's provincial railway investment group; in September 2016 it met the provincial "
                  "housing department on refining the PRD intercity rail network plan.",
        },
        "keywords": ["城际铁路", "交通"],
    },
    # ------------------------------------------------------------------------------------------------
    # Organisations — government bodies and parks
    # ------------------------------------------------------------------------------------------------
    {
        "type": "organization",
        "pids": {"ref": "org-gd-gov"},
        "name": {"zh": "广东省人民政府", "en": "People's Government of Guangdong Province"},
        "kind": "government",
        "city": "440000",
        "aliases": ["广东省政府"],
        "description": {
            "zh": "广东省最高行政机关，印发珠三角科技创新一体化行动计划并发布珠三角国家自主创新示范区建设实施方案。",
            "en": "Guangdong's provincial government, which issued the PRD S&T integration action plan and "
                  "published the PRD national innovation demonstration zone plan.",
        },
        "keywords": ["政府", "政策"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gd-housing"},
        "name": {"zh": "广东省住房和城乡建设厅", "en": "Department of Housing and Urban-Rural Development of Guangdong Province"},
        "kind": "government",
        "city": "440000",
        "aliases": ["省住房和城乡建设厅", "广东省住建厅"],
        "description": {
            "zh": "广东省住房和城乡建设主管部门，参与珠三角城际铁路网规划完善的座谈。",
            "en": "Guangdong's housing and urban-rural development department, which joined talks on refining "
                  "the PRD intercity rail plan.",
        },
        "keywords": ["城乡建设", "城际铁路"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gz-gov"},
        "name": {"zh": "广州市人民政府", "en": "Guangzhou Municipal People's Government"},
        "kind": "government",
        "city": "440100",
        "aliases": ["广州市政府"],
        "description": {
            "zh": "广州市行政机关，2016年8月19日公布广州国家自主创新示范区建设实施方案。",
            "en": "Guangzhou's municipal government, which published the Guangzhou national innovation "
                  "demonstration zone plan on 19 August 2016.",
        },
        "keywords": ["政府", "政策"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-zh-npc-sc"},
        "name": {
            "zh": "珠海市人大常委会",
            "en": "Standing Committee of the Zhuhai Municipal People's Congress",
        },
        "kind": "government",
        "city": "440400",
        "aliases": ["珠海市人民代表大会常务委员会"],
        "description": {
            "zh": "珠海市地方立法机关，2016年3月30日再次审议科技创新促进条例修订草案修改稿。",
            "en": "Zhuhai's local legislature, which on 30 March 2016 took up the amended revision draft of the "
                  "special zone's S&T innovation promotion regulations for a further reading.",
        },
        "keywords": ["地方立法", "科技创新"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-hengli-gov"},
        "name": {"zh": "东莞市横沥镇政府", "en": "Hengli Town Government, Dongguan"},
        "kind": "government",
        "city": "441900",
        "aliases": ["横沥镇政府", "东莞市横沥镇人民政府"],
        "description": {
            "zh": "东莞市横沥镇的镇级政府，2012年6月牵头组建横沥模具产业协同创新中心。",
            "en": "The town government of Hengli in Dongguan, which set up the Hengli mould-industry "
                  "collaborative innovation centre in June 2012.",
        },
        "keywords": ["模具", "专业镇"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-yantian-gov"},
        "name": {"zh": "深圳市盐田区人民政府", "en": "Yantian District Government, Shenzhen"},
        "kind": "government",
        "city": "440308",
        "aliases": ["盐田区", "盐田区人民政府", "盐田区政府"],
        "description": {
            "zh": "深圳市盐田区政府，率先开展城市GEP与GDP双核算，并建设全要素环境监测体系。",
            "en": "Shenzhen's Yantian district government, a pioneer of accounting city GEP alongside GDP and of "
                  "all-factor environmental monitoring.",
        },
        "keywords": ["GEP", "生态文明", "低碳", "环境监测"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-sfa"},
        "name": {"zh": "国家林业局", "en": "State Forestry Administration"},
        "kind": "government",
        "city": "110100",
        "description": {
            "zh": "国家林业主管部门，2016年授予珠海、肇庆“国家森林城市”称号，并批复珠三角为国家森林城市群建设示范区。",
            "en": "China's national forestry authority, which named Zhuhai and Zhaoqing national forest cities in "
                  "2016 and approved the PRD as a forest city cluster demonstration area.",
        },
        "keywords": ["林业", "国家森林城市"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-foshan-hitech"},
        "name": {"zh": "佛山高新区", "en": "Foshan Hi-tech Industrial Development Zone"},
        "kind": "park",
        "city": "440600",
        "aliases": ["佛山国家高新技术产业开发区"],
        "description": {
            "zh": "佛山的高新技术产业园区，作为协同单位参与珠三角科技金融产业协同创新发展中心。",
            "en": "Foshan's high-tech industrial zone, a partner of the PRD sci-tech finance collaborative "
                  "innovation centre.",
        },
        "keywords": ["高新区", "科技金融"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gz-ad-park"},
        "name": {"zh": "广州国家广告产业园区", "en": "Guangzhou National Advertising Industry Park"},
        "kind": "park",
        "city": "440100",
        "description": {
            "zh": "广州的国家级广告产业园区，是珠三角品牌战略协同创新中心的依托平台，园区与中心相互促进建设。",
            "en": "A national advertising-industry park in Guangzhou that serves as the base of the PRD "
                  "brand-strategy centre; park and centre are built up together.",
        },
        "keywords": ["广告产业", "品牌"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gz-intl-innovation-city"},
        "name": {"zh": "广州国际创新城", "en": "Guangzhou International Innovation City"},
        "kind": "park",
        "city": "440113",
        "description": {
            "zh": "位于广州番禺的创新园区，思科在园区内打造以智能制造云为主导产业的智慧城（国内首个此类项目）。",
            "en": "An innovation district in Panyu, Guangzhou, where Cisco is building China's first smart city "
                  "centred on a smart-manufacturing cloud industry.",
        },
        "keywords": ["智能制造", "智慧城"],
    },
    {
        "type": "organization",
        "pids": {"ref": "org-gz-dev-district"},
        "name": {"zh": "广州开发区", "en": "Guangzhou Development District"},
        "kind": "park",
        "city": "440100",
        "description": {
            "zh": "广州的开发区，区内越来越多企业出海设立跨国研发中心或共建产学研机构，力图打造国际科技创新枢纽主引擎。",
            "en": "A Guangzhou development zone where more and more firms open overseas R&D centres or joint "
                  "research bodies, aiming to drive the city's international innovation hub.",
        },
        "keywords": ["开发区", "协同创新", "产学研"],
    },
    # ------------------------------------------------------------------------------------------------
    # Platforms — key lab, collaborative innovation centres, alliance
    # ------------------------------------------------------------------------------------------------
    {
        "type": "platform",
        "pids": {"ref": "plt-gd-ecommerce-lab"},
        "name": {
            "zh": "广东省电子商务技术市场应用重点实验室",
            "en": "Guangdong Provincial Key Laboratory of E-commerce Market Application Technology",
        },
        "kind": "key_lab",
        "level": "provincial",
        "city": "440100",
        "description": {
            "zh": "依托广东财经大学的省级重点实验室，其研究力量被整合进珠三角科技金融产业协同创新发展中心。",
            "en": "A provincial key laboratory at Guangdong University of Finance and Economics whose researchers "
                  "are pooled into the PRD sci-tech finance centre.",
        },
        "keywords": ["电子商务", "重点实验室"],
        "research_directions": ["电子商务技术市场应用"],
        "relations": [{"predicate": "hosts", "subject": "ref:org-gdufe"}],
    },
    {
        "type": "platform",
        "pids": {"ref": "plt-kjjr-centre"},
        "name": {
            "zh": "珠三角科技金融产业协同创新发展中心",
            "en": "Pearl River Delta Science-Technology Finance Industry Collaborative Innovation and "
                  "Development Center",
        },
        "kind": "collaborative_innovation_center",
        "city": "440100",
        "description": {
            "zh": "由广东财经大学牵头组建并获认定的协同创新发展中心，联合高校、银行与高新区，"
                  "目标是建设科技金融数据库群、公共服务平台和法律政策保障体系，培养科技金融高端人才与智库。",
            "en": "A recognised collaborative innovation centre led by Guangdong University of Finance and "
                  "Economics with university, bank and hi-tech-zone partners; it builds sci-tech finance "
                  "databases, a public service platform and a legal and policy framework, and trains talent.",
        },
        "keywords": ["科技金融", "协同创新", "互联网金融", "智库"],
        "disciplines": ["金融学", "财政学", "会计学", "产业经济学", "电子商务", "法学", "信息科学"],
        "research_directions": [
            "微金融与科技企业融资",
            "珠三角高新技术产业金融研究",
            "科技行业财税调控及绩效评价",
            "科技金融产品创新与风险管理",
            "互联网金融与金融信息安全",
            "科技金融法律保障体系",
        ],
        "relations": [
            {"predicate": "lead_unit", "object": "ref:org-gdufe", "role": "牵头组建"},
            {"predicate": "partner_unit", "object": "ref:plt-gd-ecommerce-lab", "role": "整合研究力量"},
            {"predicate": "partner_unit", "object": "ref:org-jnu-iie", "role": "协同单位", "rank": 1},
            {"predicate": "partner_unit", "object": "ref:org-sysu-ferm", "role": "协同单位", "rank": 2},
            {"predicate": "partner_unit", "object": "ref:org-bogz-foshan", "role": "协同单位", "rank": 3},
            {"predicate": "partner_unit", "object": "ref:org-foshan-hitech", "role": "协同单位", "rank": 4},
        ],
    },
    {
        "type": "platform",
        "pids": {"ref": "plt-szhk-microelectronics"},
        "name": {"zh": "深港微电子协同创新联盟", "en": "Shenzhen–Hong Kong Microelectronics Collaborative Innovation Alliance"},
        "kind": "alliance",
        "city": "440300",
        "description": {
            "zh": "汇聚深港及全球微电子创新资源、服务两地电子信息产业升级的联盟，由深港两地各设一名理事长和一个秘书处共同运作；"
                  "规划建设IC设计、成果转化、前沿技术创新和人才培养四大平台。",
            "en": "An alliance pooling Shenzhen, Hong Kong and global microelectronics resources for the two "
                  "cities' electronics industry, run with twin chairs and twin secretariats; it plans four "
                  "platforms for IC design, technology transfer, frontier innovation and talent training.",
        },
        "keywords": ["微电子", "集成电路", "IC设计", "深港合作"],
        "research_directions": [
            "深港微电子领域发展战略研究和制定",
            "微电子领域标准和专利研究及营运",
            "微电子领域共性关键技术的研究及产业化",
            "微电子领域国际战略合作",
        ],
        # The seed runs the alliance with one chair and one secretariat on each side of the border; the
        # chairs' two institutes are therefore its lead units.
        "relations": [
            {"predicate": "lead_unit", "object": "ref:org-szwn", "role": "理事长单位（深圳）", "rank": 1},
            {"predicate": "lead_unit", "object": "ref:org-astri", "role": "理事长单位（香港）", "rank": 2},
        ],
    },
    {
        "type": "platform",
        "pids": {"ref": "plt-prd-brand-strategy"},
        "name": {
            "zh": "珠三角品牌战略协同创新中心",
            "en": "Pearl River Delta Brand Strategy Collaborative Innovation Center",
        },
        "kind": "collaborative_innovation_center",
        "level": "provincial",
        "city": "440100",
        "description": {
            "zh": "广州美术学院牵头、暨南大学核心协同共建的中心，属广东省首批培育的“2011计划”协同创新中心，"
                  "以广州国家广告产业园区为依托，目标建成国家级中心。",
            "en": "A centre led by Guangzhou Academy of Fine Arts with Jinan University as core partner, in "
                  "Guangdong's first batch of cultivated \"2011 Plan\" centres; based in the Guangzhou national "
                  "advertising park and aiming for national status.",
        },
        "keywords": ["品牌战略", "广告产业", "2011计划", "人才培养"],
        "research_directions": [
            "珠三角品牌战略创新发展模式",
            "国家品牌战略理论体系",
            "广告产业创新发展",
        ],
        "relations": [
            {"predicate": "lead_unit", "object": "ref:org-gafa", "role": "牵头单位"},
            {"predicate": "partner_unit", "object": "ref:org-jnu", "role": "核心协同单位"},
            {"predicate": "partner_unit", "object": "ref:org-gz-ad-park", "role": "依托平台"},
        ],
    },
    {
        "type": "platform",
        "pids": {"ref": "plt-hengli-mould"},
        "name": {
            "zh": "东莞市横沥模具产业协同创新中心",
            "en": "Dongguan Hengli Mould Industry Collaborative Innovation Center",
        },
        "kind": "collaborative_innovation_center",
        "city": "441900",
        "established": "2012-06",
        "description": {
            "zh": "横沥镇政府牵头、七家高校院所依托的模具制造专业镇创新服务平台（简称“协同创新中心”），"
                  "帮助东莞及珠三角模具企业升级技术、开发和生产新产品，也服务中小微企业成长。",
            "en": "An innovation service platform for Hengli's mould-making specialist town, led by the town "
                  "government and backed by seven universities and institutes, supporting technology upgrading, "
                  "product development and small firms in Dongguan and the PRD.",
        },
        "keywords": ["模具", "专业镇", "中小微企业", "产学研"],
        "research_directions": ["模具制造", "模具企业技术提升", "模具新产品研发"],
        "relations": [
            {"predicate": "lead_unit", "object": "ref:org-hengli-gov", "role": "牵头组建"},
            {"predicate": "partner_unit", "object": "ref:org-sjtu", "role": "依托单位", "rank": 1},
            {"predicate": "partner_unit", "object": "ref:org-sh-edu-stdc", "role": "依托单位", "rank": 2},
            {"predicate": "partner_unit", "object": "ref:org-dhu", "role": "依托单位", "rank": 3},
            {"predicate": "partner_unit", "object": "ref:org-gdut", "role": "依托单位", "rank": 4},
            {"predicate": "partner_unit", "object": "ref:org-sspu", "role": "依托单位", "rank": 5},
            {"predicate": "partner_unit", "object": "ref:org-dg-hust-ime", "role": "依托单位", "rank": 6},
            {"predicate": "partner_unit", "object": "ref:org-dgut", "role": "依托单位", "rank": 7},
        ],
    },
    # ------------------------------------------------------------------------------------------------
    # People — co-chairs of the Shenzhen–Hong Kong microelectronics alliance
    # ------------------------------------------------------------------------------------------------
    {
        "type": "person",
        "pids": {"ref": "per-zhang-guoxin"},
        "name": {"zh": "张国新", "en": "Zhang Guoxin"},
        "city": "440300",
        "positions": ["深圳微纳研究院院长", "深港微电子协同创新联盟联合理事长"],
        "description": {
            "zh": "深圳微纳研究院院长，与廖家俊共同担任深港微电子协同创新联盟理事长。",
            "en": "President of the Shenzhen Micro-Nano Research Institute and co-chair of the Shenzhen–Hong Kong "
                  "microelectronics alliance.",
        },
        "keywords": ["微电子"],
        "relations": [
            {"predicate": "affiliated_with", "object": "ref:org-szwn", "role": "院长"},
            {"predicate": "member_of", "object": "ref:plt-szhk-microelectronics", "role": "联合理事长"},
        ],
    },
    {
        "type": "person",
        "pids": {"ref": "per-liao-jiajun"},
        "name": {"zh": "廖家俊", "en": "Liao Jiajun"},
        "city": "810000",
        "positions": ["香港应用科学研究院副总裁", "深港微电子协同创新联盟联合理事长"],
        "description": {
            "zh": "香港应用科技研究院副总裁，与张国新共同担任深港微电子协同创新联盟理事长。",
            "en": "Vice president of the Hong Kong Applied Science and Technology Research Institute and co-chair "
                  "of the Shenzhen–Hong Kong microelectronics alliance.",
        },
        "keywords": ["微电子"],
        "relations": [
            {"predicate": "affiliated_with", "object": "ref:org-astri", "role": "副总裁"},
            {"predicate": "member_of", "object": "ref:plt-szhk-microelectronics", "role": "联合理事长"},
        ],
    },
    # ------------------------------------------------------------------------------------------------
    # Policies
    # ------------------------------------------------------------------------------------------------
    {
        "type": "policy",
        "pids": {"ref": "pol-prd-st-integration-2014"},
        "title": {
            "zh": "珠三角科技创新一体化行动计划（2014-2020年）",
            "en": "Pearl River Delta Science and Technology Innovation Integration Action Plan (2014-2020)",
        },
        "aliases": ["推进珠江三角洲地区科技创新一体化行动计划（2014-2020年）"],
        "issuer": "广东省人民政府",
        "issued": "2014-11",
        "regions": ["440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200"],
        "period_start": 2014,
        "period_end": 2020,
        "url": "http://zwgk.gd.gov.cn/006939748/201411/t20141117555394.html",
        "description": {
            "zh": "广东省政府印发的珠三角科技创新一体化计划，目标是到2020年使珠三角率先成为全国创新型区域和亚太重要科技创新中心；"
                  "重点共建广佛肇、深莞惠、珠中江三大创新圈公共服务平台和统一的科技资源共享平台，并设社会民生保障科技行动（食品安全、环保）。",
            "en": "Guangdong's plan to integrate PRD innovation, aiming to make the PRD a national innovative "
                  "region and an Asia-Pacific S&T hub by 2020 through shared platforms in three innovation circles, "
                  "a unified S&T resource-sharing platform, and S&T actions for food safety and the environment.",
        },
        "keywords": ["科技创新一体化", "创新圈", "公共服务平台", "食品安全", "环境保护"],
        "targets": [],
    },
    {
        "type": "policy",
        "pids": {"ref": "pol-prd-nidz-2016"},
        "title": {
            "zh": "珠三角国家自主创新示范区建设实施方案（2016-2020年）",
            "en": "Implementation Plan for Building the Pearl River Delta National Independent Innovation "
                  "Demonstration Zone (2016-2020)",
        },
        "aliases": [
            "珠三角国家自主创新示范区建设实施方案（2016—2020年）",
            "珠三角国家自主创新示范区建设实施方案（2016—2020年）（征求意见稿）",
        ],
        "issuer": "广东省人民政府",
        "issued": "2016-04-01",
        "regions": ["440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200"],
        "period_start": 2016,
        "period_end": 2020,
        "url": "http://zwgk.gd.gov.cn/006939748/201604/t20160425652836.html",
        "description": {
            "zh": "广东省人民政府官网发布的珠三角自创区方案（此前有征求意见稿），以18个专栏分派9市任务，"
                  "构建深圳、广州为龙头加7市的“1+1+7”格局，率先落实“6+4”政策并带动粤东西北。",
            "en": "The PRD demonstration-zone plan published by the Guangdong government (after a draft for "
                  "comment); 18 thematic columns set tasks for nine cities in a \"1+1+7\" layout led by Shenzhen "
                  "and Guangzhou, piloting the \"6+4\" policies and spreading gains to the rest of Guangdong.",
        },
        "keywords": ["国家自主创新示范区", "1+1+7", "6+4政策", "科技金融", "知识产权", "粤东西北"],
        "targets": [],
    },
    {
        "type": "policy",
        "pids": {"ref": "pol-zhuhai-st-promotion-draft-2016"},
        "title": {
            "zh": "珠海经济特区科技创新促进条例（修订草案修改稿）",
            "en": "Regulations of Zhuhai Special Economic Zone on Promoting Scientific and Technological "
                  "Innovation (Amended Revision Draft)",
        },
        "aliases": ["珠海经济特区科技创新促进条例"],
        "issuer": "珠海市人大常委会",
        "issued": "2016-03-30",
        "regions": ["440400"],
        "status": "draft",
        "url": "http://www.gdstc.gov.cn/HTML/zt/zsjgjzzcx/zcgh/1474358122892-2885758586166199693.html",
        "description": {
            "zh": "2016年3月30日提请珠海市人大常委会再次审议的修订稿，补充了关于科技规划、财政投入占比、诚信管理、科技中介服务及失败免责的规定，"
                  "以事前资助与事后补助结合支持科技型初创和中小企业，并扶持新型研发机构。",
            "en": "The amended revision draft put to Zhuhai's legislature again on 30 March 2016; it adds clauses "
                  "on planning, funding ratios, integrity oversight, S&T services and tolerance of failure, "
                  "backs start-ups and SMEs with up-front grants and ex-post subsidies, and supports new R&D "
                  "institutions.",
        },
        "keywords": ["科技创新促进条例", "财政科技投入", "新型研发机构", "免责条款", "中小企业"],
        "targets": [
            {
                "indicator": "财政科技投入占一般预算支出比例",
                "indicator_en": "Fiscal S&T spending as a share of general budget expenditure",
                "comparator": ">=",
                "value": 5,
                "unit": "%",
                "region": "440400",
                "clause": "在年度财政预算中安排财政科技投入占一般预算支出的比例应当达到5%以上",
                "aspirational": False,
            },
            {
                "indicator": "科技研发专项资金占当年一般预算支出比例",
                "indicator_en": "Dedicated S&T R&D funds as a share of the year's general budget expenditure",
                "comparator": ">=",
                "value": 3,
                "unit": "%",
                "region": "440400",
                "clause": "其中科技研发专项资金的比例应当达到当年一般预算支出的3%以上",
                "aspirational": False,
            },
        ],
    },
    {
        "type": "policy",
        "pids": {"ref": "pol-gz-nidz-2016"},
        "title": {
            "zh": "广州国家自主创新示范区建设实施方案（2016—2020年）",
            "en": "Implementation Plan for Building the Guangzhou National Independent Innovation "
                  "Demonstration Zone (2016-2020)",
        },
        "issuer": "广州市人民政府",
        "issued": "2016-08-19",
        "regions": ["440100"],
        "period_start": 2016,
        "period_end": 2020,
        "url": "http://www.gdstc.gov.cn/HTML/zt/zsjgjzzcx/zcgh/14743417367823527641892589636563.html",
        "description": {
            "zh": "广州作为珠三角自创区龙头的建设方案，确定引领区、核心区、集聚区三项战略定位，"
                  "分2020、2030、2049三步追赶并领跑国际一流科技园区；落实“6+4”政策、改革成果转化收益分配并实施孵化器倍增计划。",
            "en": "Guangzhou's plan as leader of the PRD demonstration zone, with three strategic roles and "
                  "milestones for 2020, 2030 and 2049; it applies the \"6+4\" policies, lets inventors keep most "
                  "commercialisation income and doubles the city's incubators.",
        },
        "keywords": ["国家自主创新示范区", "科技成果转化", "孵化器倍增计划", "研发投入", "发明专利"],
        "targets": [
            {
                "indicator": "全社会研发投入占GDP比重",
                "indicator_en": "Gross R&D expenditure as a share of GDP",
                "comparator": ">=",
                "value": 3.0,
                "unit": "%",
                "year": 2020,
                "region": "440100",
                "clause": "全社会研发投入占GDP（地区生产总值）比重达到3.0％",
                "aspirational": False,
            },
            {
                "indicator": "规模以上工业企业建立研发机构比例",
                "indicator_en": "Share of industrial enterprises above designated size with an R&D unit",
                "comparator": ">",
                "value": 50,
                "unit": "%",
                "year": 2020,
                "region": "440100",
                "clause": "规模以上工业企业建立研发机构比例超过50％",
                "aspirational": False,
            },
            {
                "indicator": "每万人发明专利拥有量",
                "indicator_en": "Invention patents in force per 10,000 people",
                "comparator": ">=",
                "value": 25,
                "unit": "件/万人",
                "year": 2020,
                "region": "440100",
                "clause": "每万人发明专利拥有量达25件以上",
                "aspirational": False,
            },
            {
                "indicator": "成果完成人（团队）收入分配比例",
                "indicator_en": "Share of commercialisation income going to the inventors (team)",
                "comparator": ">=",
                "value": 70,
                "unit": "%",
                "region": "440100",
                "clause": "成果完成人（团队）的收入分配比例可不低于70％",
                "aspirational": False,
            },
            {
                "indicator": "具有全国乃至全球影响力的品牌孵化器数量",
                "indicator_en": "Brand incubators with national or global influence",
                "comparator": "between",
                "value": 3,
                "value_max": 5,
                "unit": "家",
                "region": "440100",
                "clause": "力争在生物医药、计算科学应用、智能制造等领域培育3－5家在全国乃至全球具有影响力的品牌孵化器",
                "aspirational": True,
            },
        ],
    },
    {
        "type": "policy",
        "pids": {"ref": "pol-gz-producer-services-2015"},
        "title": {
            "zh": "广州市加快发展生产性服务业三年行动方案（2015—2017年）",
            "en": "Guangzhou Three-Year Action Plan for Accelerating Producer Services (2015-2017)",
        },
        "regions": ["440100"],
        "period_start": 2015,
        "period_end": 2017,
        "description": {
            "zh": "广州发展生产性服务业的三年方案，要把广州打造成服务珠三角工业的中心、全国性的生产服务创新基地和国际性的生产服务贸易枢纽，"
                  "并为2017年设定增加值及占比目标。",
            "en": "Guangzhou's three-year producer-services plan, aiming to become the PRD's industrial service "
                  "centre, a national producer-service innovation base and an international trade hub, with "
                  "value-added targets for 2017.",
        },
        "keywords": ["生产性服务业", "现代服务业", "产业协同"],
        "targets": [
            {
                "indicator": "生产性服务业增加值",
                "indicator_en": "Producer-services value added",
                "comparator": "≈",
                "value": 6800,
                "unit": "亿元",
                "year": 2017,
                "region": "440100",
                "clause": "到2017年，广州生产性服务业增加值要达到6800亿元左右",
                "aspirational": False,
            },
            {
                "indicator": "生产性服务业增加值占服务业增加值比重",
                "indicator_en": "Producer services' share of services value added",
                "comparator": "≈",
                "value": 48,
                "unit": "%",
                "year": 2017,
                "region": "440100",
                "clause": "占服务业增加值和GDP的比重分别要达到48%和32%左右",
                "aspirational": False,
            },
            {
                "indicator": "生产性服务业增加值占GDP比重",
                "indicator_en": "Producer services' share of GDP",
                "comparator": "≈",
                "value": 32,
                "unit": "%",
                "year": 2017,
                "region": "440100",
                "clause": "占服务业增加值和GDP的比重分别要达到48%和32%左右",
                "aspirational": False,
            },
        ],
    },
    {
        "type": "policy",
        "pids": {"ref": "pol-prd-forest-city-cluster"},
        "title": {
            "zh": "珠三角国家森林城市群建设规划",
            "en": "Pearl River Delta National Forest City Cluster Plan",
        },
        "regions": ["440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200"],
        "description": {
            "zh": "新闻中引述的珠三角国家森林城市群建设规划（原文仅称“规划”），提出碳汇林、生态林、湿地公园和森林小镇等目标，"
                  "形成“两屏、三网、九核、多点”的区域生态格局，力争2020年建成全国首个国家森林城市群。",
            "en": "The PRD forest city cluster plan quoted in the news (the source calls it simply \"the plan\"): "
                  "targets for carbon-sink forest, ecological forest, wetland parks and forest towns within a "
                  "\"two screens, three networks, nine cores, many points\" layout, aiming for China's first "
                  "national forest city cluster by 2020.",
        },
        "keywords": ["国家森林城市群", "碳汇林", "湿地公园", "森林小镇", "生态保护"],
        "relations": [{"predicate": "mentions", "object": "ref:org-sfa"}],
        "targets": [
            {
                "indicator": "未来5年新增高质量碳汇林面积",
                "indicator_en": "New high-quality carbon-sink forest over the next five years",
                "comparator": "=",
                "value": 71,
                "unit": "万亩",
                "clause": "未来5年珠三角将新增建设71万亩高质量的碳汇林",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage (full coverage)",
                "comparator": "=",
                "value": 100,
                "unit": "%",
                "region": "440300",
                "clause": "深圳、中山、珠海、东莞逐步实现生态林全覆盖",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage (full coverage)",
                "comparator": "=",
                "value": 100,
                "unit": "%",
                "region": "442000",
                "clause": "深圳、中山、珠海、东莞逐步实现生态林全覆盖",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage (full coverage)",
                "comparator": "=",
                "value": 100,
                "unit": "%",
                "region": "440400",
                "clause": "深圳、中山、珠海、东莞逐步实现生态林全覆盖",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage (full coverage)",
                "comparator": "=",
                "value": 100,
                "unit": "%",
                "region": "441900",
                "clause": "深圳、中山、珠海、东莞逐步实现生态林全覆盖",
                "aspirational": False,
            },
            # "其他5市" = the remaining five of the nine PRD cities: 广州、佛山、惠州、江门、肇庆
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "region": "440100",
                "clause": "其他5市生态林覆盖率达到50%以上",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "region": "440600",
                "clause": "其他5市生态林覆盖率达到50%以上",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "region": "441300",
                "clause": "其他5市生态林覆盖率达到50%以上",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "region": "440700",
                "clause": "其他5市生态林覆盖率达到50%以上",
                "aspirational": False,
            },
            {
                "indicator": "生态林覆盖率",
                "indicator_en": "Ecological forest coverage",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "region": "441200",
                "clause": "其他5市生态林覆盖率达到50%以上",
                "aspirational": False,
            },
            {
                "indicator": "每市国家级湿地公园数量",
                "indicator_en": "National-level wetland parks per city",
                "comparator": "=",
                "value": 1,
                "unit": "个",
                "clause": "每个市建设1个国家级湿地公园、2个省级湿地公园和一批示范性湿地公园",
                "aspirational": False,
            },
            {
                "indicator": "每市省级湿地公园数量",
                "indicator_en": "Provincial-level wetland parks per city",
                "comparator": "=",
                "value": 2,
                "unit": "个",
                "clause": "每个市建设1个国家级湿地公园、2个省级湿地公园和一批示范性湿地公园",
                "aspirational": False,
            },
            {
                "indicator": "认定森林小镇数量占区域内建制镇总数比例",
                "indicator_en": "Certified forest towns as a share of all incorporated towns in the region",
                "comparator": ">=",
                "value": 50,
                "unit": "%",
                "year": 2020,
                "clause": "力争到2020年，认定的森林小镇数量达到区域内所有建制镇总数的50%",
                "aspirational": True,
            },
            {
                "indicator": "达到国家森林城市建设标准的珠三角城市数量",
                "indicator_en": "PRD cities meeting the national forest city standard",
                "comparator": "=",
                "value": 9,
                "unit": "个",
                "year": 2018,
                "clause": "力争到2018年，珠三角9市全部达到国家森林城市建设标准",
                "aspirational": True,
            },
        ],
    },
    # ------------------------------------------------------------------------------------------------
    # News
    # ------------------------------------------------------------------------------------------------
    {
        "type": "news",
        "pids": {"ref": "news-gz-services-drive-prd"},
        "title": {
            "zh": "产业大协同：广州服务带动珠三角创新发展",
            "en": "Industrial collaboration: Guangzhou's services drive innovation across the Pearl River Delta",
        },
        "description": {
            "zh": "报道广州企业以装备、技术和服务带动珠三角制造升级：佳都集团为莞惠城际供应屏蔽门，每10亿元智能化系统产值可带动50亿元周边传统产业产值；"
                  "广州数控机器人进驻佛山志高工厂；思科中国创新总部落户广州。文中还介绍了广州生产性服务业三年行动方案的2017年目标，"
                  "以及广州上百家融资租赁企业、注册资金逾700亿元的情况。",
            "en": "Guangzhou firms lift PRD manufacturing: Jiadu Group's screen doors for the Dongguan–Huizhou "
                  "line (every 1 billion yuan of its systems output drives 5 billion yuan of traditional output "
                  "nearby), GSK robots at Chigo in Foshan, and Cisco's China innovation HQ in Guangzhou; the "
                  "piece also cites the 2017 producer-services targets and 100-plus leasing firms with over "
                  "70 billion yuan of registered capital.",
        },
        "keywords": ["产业协同", "生产性服务业", "智能制造", "融资租赁", "工业互联网"],
        "relations": [
            {"predicate": "mentions", "object": "ref:org-pci-group"},
            {"predicate": "mentions", "object": "ref:org-gsk-cnc"},
            {"predicate": "mentions", "object": "ref:org-chigo"},
            {"predicate": "mentions", "object": "ref:org-cisco"},
            {"predicate": "mentions", "object": "ref:org-gz-intl-innovation-city"},
            {"predicate": "mentions", "object": "ref:pol-gz-producer-services-2015"},
        ],
    },
    {
        "type": "news",
        "pids": {"ref": "news-prd-one-hour-traffic"},
        "title": {
            "zh": "珠三角一小时交通圈即将建成",
            "en": "Pearl River Delta one-hour transport circle nears completion",
        },
        "published": "2016-09",
        "description": {
            "zh": "2016年9月广东省铁投集团与省住房和城乡建设厅座谈完善珠三角城际铁路网规划，佛莞城际狮子洋隧道盾构机于9月20日始发。"
                  "报道认为环湾城际将串联枢纽与自贸区等功能区，助力三大自贸区联动和珠三角“一小时”通达。",
            "en": "In September 2016 the provincial railway investment group and housing department discussed the "
                  "PRD intercity rail plan, and the Shiziyang tunnel boring on the Foshan–Dongguan line began on "
                  "20 September; bay-ring rail is to link hubs and free-trade zones toward a one-hour PRD.",
        },
        "keywords": ["城际铁路", "一小时交通圈", "自贸区", "环湾城际"],
        "relations": [
            {"predicate": "mentions", "object": "ref:org-gd-railway-invest"},
            {"predicate": "mentions", "object": "ref:org-gd-housing"},
        ],
    },
    {
        "type": "news",
        "pids": {"ref": "news-gzdd-global-resources"},
        "title": {
            "zh": "广州开发区协同创新吸纳全球资源",
            "en": "Guangzhou Development District draws global resources through collaborative innovation",
        },
        "published": "2016-09",
        "description": {
            "zh": "2016年9月金域检验在香港发布粤港科研合作战略，与香港理工大学、香港大学等签署学术合作与交流谅解备忘录，"
                  "聚焦基因组、蛋白组等高端医学检验；报道还介绍了广州开发区企业出海建研发中心、推进产学研协同的趋势。",
            "en": "In September 2016 KingMed Diagnostics launched a Guangdong–Hong Kong research strategy in Hong "
                  "Kong and signed an academic MoU with PolyU, HKU and others on genomic and proteomic testing; "
                  "the report also notes Guangzhou Development District firms setting up R&D abroad.",
        },
        "keywords": ["粤港合作", "医学检验", "一带一路", "产学研", "跨国研发中心"],
        "relations": [
            {"predicate": "mentions", "object": "ref:org-kingmed"},
            {"predicate": "mentions", "object": "ref:org-polyu"},
            {"predicate": "mentions", "object": "ref:org-hku"},
            {"predicate": "mentions", "object": "ref:org-gz-dev-district"},
        ],
    },
    {
        "type": "news",
        "pids": {"ref": "news-prd-forest-city-cluster-2020"},
        "title": {
            "zh": "珠三角力争2020年建成国家森林城市群",
            "en": "Pearl River Delta aims to become a national forest city cluster by 2020",
        },
        "published": "2016-09",
        "description": {
            "zh": "2016年9月珠海、肇庆获国家林业局授予“国家森林城市”称号，广东的国家森林城市增至5个；8月珠三角获批国家森林城市群建设示范区。"
                  "报道介绍了规划中的碳汇林、生态林、湿地公园和森林小镇目标及“两屏、三网、九核、多点”布局。",
            "en": "In September 2016 Zhuhai and Zhaoqing were named national forest cities, bringing Guangdong's "
                  "total to five, after the PRD was approved in August as a forest city cluster demonstration "
                  "area; the report outlines the plan's forest, wetland and forest-town targets.",
        },
        "keywords": ["国家森林城市群", "国家森林城市", "碳汇林", "湿地公园", "森林小镇"],
        "relations": [
            {"predicate": "mentions", "object": "ref:org-sfa"},
            {"predicate": "mentions", "object": "ref:org-gd-gov"},
            {"predicate": "mentions", "object": "ref:pol-prd-forest-city-cluster"},
        ],
    },
    {
        "type": "news",
        "pids": {"ref": "news-prd-low-carbon-forum"},
        "title": {
            "zh": "珠三角城市群低碳发展论坛 创新协同助推绿色发展",
            "en": "PRD city cluster low-carbon forum: collaborative innovation boosts green development",
        },
        "published": "2016-09",
        "description": {
            "zh": "2016年9月第四届国际低碳城论坛之第二届珠三角城市群低碳发展分论坛在深圳召开，聚焦盐田区的生态实践："
                  "城市GEP与GDP双核算、“碳币”全民参与体系，以及投入2727万元建成、含153个监测子站的全要素环境监测系统。",
            "en": "The 2nd PRD city cluster low-carbon sub-forum of the 4th International Low Carbon City Forum met "
                  "in Shenzhen in September 2016, featuring Yantian's dual GEP/GDP accounting, its \"carbon "
                  "coin\" scheme and a 27.27-million-yuan monitoring network with 153 substations.",
        },
        "keywords": ["低碳", "GEP", "碳币", "生态文明", "环境监测"],
        "relations": [
            {"predicate": "mentions", "object": "ref:org-yantian-gov"},
        ],
    },
]
