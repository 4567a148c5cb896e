"""Static tables describing the fictional company 星河科技 / Galaxy Tech (pure data, no logic).

Everything else in the seed (ids, OKRs, roster, attendance) is derived deterministically from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANCHOR_ISO = "2026-11-25"
TENANT_NAME = "星河科技"
TENANT_NAME_EN = "Galaxy Tech"
TENANT_KEY = "sandbox_tenant_galaxy"
EMAIL_DOMAIN = "galaxy.example"
BOT_APP_NAME = "OKR 助手"


@dataclass(frozen=True)
class DepartmentRow:
    key: str
    department_id: str  # the tenant's custom department_id
    name: str
    en_name: str
    parent: str | None  # parent key; None = child of the root "0"
    leader: str  # person key
    city: str


@dataclass(frozen=True)
class PersonRow:
    key: str
    name: str
    en_name: str
    email_local: str
    dept: str  # department key, "root" = the root department "0"
    title: str
    title_en: str
    city: str
    gender: int  # 1 male, 2 female
    nickname: str = ""
    employee_type: int = 1  # 1 full-time, 2 intern, 3 consultant, 4 outsourced, 5 labour
    hire_date: str = ""  # "" = derived from the key
    ehr_status: int = 2  # 1 pre-hire, 2 active, 3 cancelled, 4 leaving, 5 left
    last_day: str = ""
    conversion_date: str = ""  # "" = hire_date + probation
    in_contact: bool = True  # pre-hires / cancelled hires are not contact users yet
    tags: tuple[str, ...] = field(default_factory=tuple)


DEPARTMENTS: tuple[DepartmentRow, ...] = (
    DepartmentRow("eng", "D100", "研发部", "Engineering", None, "cto", "北京"),
    DepartmentRow("backend", "D110", "后端组", "Backend", "eng", "wanglei", "北京"),
    DepartmentRow("frontend", "D120", "前端组", "Frontend", "eng", "liuyang", "上海"),
    DepartmentRow("product", "D200", "产品部", "Product", None, "sunyue", "北京"),
    DepartmentRow("design", "D300", "设计部", "Design", None, "linxi", "上海"),
    DepartmentRow("marketing", "D400", "市场部", "Marketing", None, "hejing", "上海"),
    DepartmentRow("hr", "D500", "人力资源部", "People/HR", None, "guofang", "北京"),
    DepartmentRow("finance", "D600", "财务部", "Finance", None, "majun", "深圳"),
)

# Who a person may see with their own user_access_token (Seed.visible_to): everyone sees everyone, except the
# members of these departments, who are visible only to members of the "seen by" departments and the people listed.
PRIVATE_DEPARTMENTS = ("finance",)
PRIVATE_SEEN_BY_DEPARTMENTS = ("finance", "hr")
PRIVATE_SEEN_BY_PEOPLE = ("ceo",)

TRICKY_EN_NAME = "*Star* [Lee](http://x) <at id=all></at>"
TRICKY_NICKNAME = '<b>Star</b> @_all _Lee_ `rm -rf` <at user_id="all">所有人</at>'

P = PersonRow
# fmt: off
PEOPLE: tuple[PersonRow, ...] = (
    # root department "0"
    P("ceo", "周星河", "Xinghe Zhou", "zhouxinghe", "root", "首席执行官", "CEO", "北京", 1, nickname="星河",
      hire_date="2016-03-01"),
    # 研发部 (direct members)
    P("cto", "陈立", "Li Chen", "chenli", "eng", "首席技术官", "CTO", "北京", 1, hire_date="2016-05-16"),
    P("huangjianguo", "黄建国", "Jianguo Huang", "huangjianguo", "eng", "架构师", "Architect", "北京", 1),
    P("wutong", "吴桐", "Tong Wu", "wutong", "eng", "测试经理", "QA Manager", "杭州", 2),
    P("lixing", "李星", TRICKY_EN_NAME, "lixing", "eng", "技术专家", "Staff Engineer", "深圳", 1,
      nickname=TRICKY_NICKNAME, tags=("tricky-name",)),
    # 后端组
    P("wanglei", "王磊", "Lei Wang", "wanglei", "backend", "后端负责人", "Backend Lead", "北京", 1,
      hire_date="2018-07-02"),
    P("zhangwei_be", "张伟", "Wei Zhang", "zhangwei", "backend", "高级后端工程师", "Senior Backend Engineer",
      "北京", 1, tags=("duplicate-name",)),
    P("liufang", "刘芳", "Fang Liu", "liufang", "backend", "后端工程师", "Backend Engineer", "北京", 2),
    P("yangfan", "杨帆", "Fan Yang", "yangfan", "backend", "后端工程师", "Backend Engineer", "杭州", 1),
    P("zhaoqiang", "赵强", "Qiang Zhao", "zhaoqiang", "backend", "后端工程师", "Backend Engineer", "北京", 1,
      ehr_status=4, last_day="2026-12-04"),
    P("sunli", "孙丽", "Li Sun", "sunli", "backend", "后端工程师", "Backend Engineer", "北京", 2),
    P("zhoujie", "周杰", "Jie Zhou", "zhoujie", "backend", "数据库工程师", "DBA", "杭州", 1),
    P("xujing", "徐静", "Jing Xu", "xujing", "backend", "后端工程师", "Backend Engineer", "北京", 2),
    P("zhulei", "朱磊", "Lei Zhu", "zhulei", "backend", "运维工程师", "SRE", "北京", 1),
    P("hubin", "胡斌", "Bin Hu", "hubin", "backend", "后端工程师", "Backend Engineer", "杭州", 1),
    P("guotao", "郭涛", "Tao Guo", "guotao", "backend", "后端工程师", "Backend Engineer", "北京", 1),
    P("heping", "何平", "Ping He", "heping", "backend", "后端工程师", "Backend Engineer", "北京", 1,
      ehr_status=5, last_day="2026-10-31"),
    P("gaoxiang", "高翔", "Xiang Gao", "gaoxiang", "backend", "后端实习生", "Backend Intern", "北京", 1,
      employee_type=2, hire_date="2026-11-16"),
    P("ouyangnana", "欧阳娜娜", "Nana Ouyang", "ouyangnana", "backend", "后端工程师", "Backend Engineer",
      "杭州", 2),
    P("cuijian", "崔健", "Jian Cui", "cuijian", "backend", "后端工程师", "Backend Engineer", "北京", 1),
    P("gongjun", "龚俊", "Jun Gong", "gongjun", "backend", "后端工程师", "Backend Engineer", "杭州", 1),
    # 前端组
    P("liuyang", "刘洋", "Yang Liu", "liuyang", "frontend", "前端负责人", "Frontend Lead", "上海", 1,
      hire_date="2019-02-18"),
    P("alex", "Alex Johnson", "Alex Johnson", "alex.johnson", "frontend", "前端工程师", "Frontend Engineer",
      "上海", 1, nickname="AJ", tags=("english-only",)),
    P("linxiao", "林晓", "Xiao Lin", "linxiao", "frontend", "前端工程师", "Frontend Engineer", "上海", 2,
      hire_date="2026-06-08", conversion_date="2026-12-08"),
    P("zhengkai", "郑凯", "Kai Zheng", "zhengkai", "frontend", "前端工程师", "Frontend Engineer", "上海", 1),
    P("xiejuan", "谢娟", "Juan Xie", "xiejuan", "frontend", "前端工程师", "Frontend Engineer", "上海", 2),
    P("luojie", "罗杰", "Jie Luo", "luojie", "frontend", "前端工程师", "Frontend Engineer", "杭州", 1),
    P("liangyu", "梁宇", "Yu Liang", "liangyu", "frontend", "客户端工程师", "Mobile Engineer", "上海", 1),
    P("songjia", "宋佳", "Jia Song", "songjia", "frontend", "前端工程师", "Frontend Engineer", "上海", 2,
      hire_date="2026-06-01", conversion_date="2026-12-01"),
    P("tangliang", "唐亮", "Liang Tang", "tangliang", "frontend", "外包前端工程师",
      "Contract Frontend Engineer", "上海", 1, employee_type=4),
    P("hanxue", "韩雪", "Xue Han", "hanxue", "frontend", "前端工程师", "Frontend Engineer", "上海", 2,
      hire_date="2026-11-02"),
    P("jiangtao", "姜涛", "Tao Jiang", "jiangtao", "frontend", "前端工程师", "Frontend Engineer", "杭州", 1),
    # 产品部
    P("sunyue", "孙悦", "Yue Sun", "sunyue", "product", "产品总监", "Head of Product", "北京", 2,
      hire_date="2017-09-04"),
    P("zhangmin", "张敏", "Min Zhang", "zhangmin", "product", "高级产品经理", "Senior Product Manager",
      "北京", 2),
    P("fengchao", "冯超", "Chao Feng", "fengchao", "product", "产品经理", "Product Manager", "北京", 1),
    P("caoyang", "曹阳", "Yang Cao", "caoyang", "product", "产品经理", "Product Manager", "杭州", 1),
    P("pengfei", "彭飞", "Fei Peng", "pengfei", "product", "数据分析师", "Data Analyst", "北京", 1),
    P("dongjie", "董洁", "Jie Dong", "dongjie", "product", "产品经理", "Product Manager", "北京", 2),
    P("yuanye", "袁野", "Ye Yuan", "yuanye", "product", "产品顾问", "Product Consultant", "北京", 1,
      employee_type=3),
    P("fanbing", "范冰", "Bing Fan", "fanbing", "product", "产品经理", "Product Manager", "杭州", 2),
    # 设计部
    P("linxi", "林夕", "Xi Lin", "linxi", "design", "设计总监", "Head of Design", "上海", 2,
      hire_date="2018-03-12"),
    P("xunuo", "许诺", "Nuo Xu", "xunuo", "design", "交互设计师", "UX Designer", "上海", 2),
    P("shenxing", "沈星", "Xing Shen", "shenxing", "design", "视觉设计师", "Visual Designer", "上海", 1),
    P("dilraba", "迪丽热巴·迪力木拉提", "Dilraba Dilmurat", "dilraba", "design", "品牌设计师",
      "Brand Designer", "上海", 2, tags=("middle-dot-name",)),
    P("denglin", "邓琳", "Lin Deng", "denglin", "design", "视觉设计师", "Visual Designer", "上海", 2,
      hire_date="2026-11-23", tags=("no-okr",)),
    # 市场部
    P("hejing", "何静", "Jing He", "hejing", "marketing", "市场总监", "Head of Marketing", "上海", 2,
      hire_date="2018-10-08"),
    P("zhangwei_mkt", "张伟", "David Zhang", "zhangwei2", "marketing", "市场经理", "Marketing Manager",
      "上海", 1, nickname="大卫", tags=("duplicate-name",)),
    P("jiangxin", "蒋欣", "Xin Jiang", "jiangxin", "marketing", "品牌经理", "Brand Manager", "深圳", 2),
    P("caiming", "蔡明", "Ming Cai", "caiming", "marketing", "渠道经理", "Channel Manager", "深圳", 1,
      ehr_status=4, last_day="2026-12-10"),
    P("panting", "潘婷", "Ting Pan", "panting", "marketing", "市场专员", "Marketing Specialist", "上海", 2,
      hire_date="2026-05-28", conversion_date="2026-11-28"),
    P("tianye", "田野", "Ye Tian", "tianye", "marketing", "销售经理", "Sales Manager", "深圳", 1),
    P("jialing", "贾玲", "Ling Jia", "jialing", "marketing", "市场专员", "Marketing Specialist", "上海", 2,
      ehr_status=5, last_day="2026-09-30"),
    P("xiayu", "夏雨", "Yu Xia", "xiayu", "marketing", "活动执行", "Event Staff", "深圳", 1, employee_type=5),
    # 人力资源部
    P("guofang", "郭芳", "Fang Guo", "guofang", "hr", "人力资源总监", "Head of People", "北京", 2,
      hire_date="2017-04-10"),
    P("shaohua", "邵华", "Hua Shao", "shaohua", "hr", "HRBP", "HR Business Partner", "北京", 1),
    P("qianduoduo", "钱多多", "Duoduo Qian", "qianduoduo", "hr", "薪酬专员", "Compensation Specialist",
      "北京", 2),
    P("chengcheng", "程诚", "Cheng Cheng", "chengcheng", "hr", "招聘专员", "Recruiter", "杭州", 1,
      ehr_status=4, last_day="2026-11-30"),
    P("bailu", "白露", "Lu Bai", "bailu", "hr", "招聘专员", "Recruiter", "北京", 2),
    P("qinlan", "秦岚", "Lan Qin", "qinlan", "hr", "培训专员", "L&D Specialist", "北京", 2,
      hire_date="2026-10-28"),
    P("suqing", "苏晴", "Qing Su", "suqing", "hr", "员工关系专员", "Employee Relations", "北京", 2),
    # 财务部
    P("majun", "马骏", "Jun Ma", "majun", "finance", "财务总监", "CFO", "深圳", 1, hire_date="2017-01-09",
      tags=("hidden-okr",)),
    P("lujing", "卢静", "Jing Lu", "lujing", "finance", "会计", "Accountant", "深圳", 2),
    P("fangyuan", "方圆", "Yuan Fang", "fangyuan", "finance", "出纳", "Cashier", "深圳", 1),
    P("jinxin", "金鑫", "Xin Jin", "jinxin", "finance", "财务分析师", "Financial Analyst", "深圳", 1),
    P("yuhuan", "余欢", "Huan Yu", "yuhuan", "finance", "税务专员", "Tax Specialist", "深圳", 2),
    P("shilei", "石磊", "Lei Shi", "shilei", "finance", "会计", "Accountant", "深圳", 1),
    # roster-only records (not contact users yet / never joined)
    P("guchen", "顾晨", "Chen Gu", "guchen", "backend", "后端工程师", "Backend Engineer", "北京", 1,
      hire_date="2026-12-01", ehr_status=1, in_contact=False),
    P("mofan", "莫凡", "Fan Mo", "mofan", "design", "交互设计师", "UX Designer", "上海", 1,
      hire_date="2026-12-07", ehr_status=1, in_contact=False),
    P("luyao", "陆遥", "Yao Lu", "luyao", "product", "产品经理", "Product Manager", "北京", 2,
      hire_date="2026-11-20", ehr_status=3, in_contact=False),
)
# fmt: on
del P

# Group chats the bot is in (or, for one of them, is not in).
# members: department keys (a sub-department is listed explicitly), person keys, or "all" = everyone
# active.
CHATS: tuple[dict[str, object], ...] = (
    {
        "key": "eng_weekly",
        "name": "研发周会 Eng weekly",
        "owner": "cto",
        "members": ("eng", "backend", "frontend"),
        "description": "研发部每周例会 / Engineering weekly sync",
        "bot_member": True,
    },
    {
        "key": "all_hands",
        "name": "全员群 All hands",
        "owner": "ceo",
        "members": ("all",),
        "description": "星河科技全员 / Everyone at Galaxy Tech",
        "bot_member": True,
    },
    {
        "key": "product_design",
        "name": "产品设计 Product & Design",
        "owner": "sunyue",
        "members": ("product", "design"),
        "description": "产品与设计协作",
        "bot_member": True,
    },
    {
        "key": "finance_private",
        "name": "财务内部 Finance only",
        "owner": "majun",
        "members": ("finance",),
        "description": "bot is NOT a member of this chat",
        "bot_member": False,
    },
)

# Attendance groups. Members are person keys; clock type 2 = need not clock in.
ATTENDANCE_FLEX_KEYS = ("cto", "huangjianguo", "lixing")
ATTENDANCE_FIELD_KEYS = ("zhangwei_mkt", "tianye", "xiayu")
ATTENDANCE_NO_GROUP_KEYS = ("ceo", "tangliang", "denglin")  # besides people who left
ATTENDANCE_NO_CLOCK_KEYS = ("cto", "sunyue", "hejing", "zhangwei_mkt", "tianye", "xiayu")
ON_LEAVE_AT_ANCHOR = ("liufang", "fengchao")
ON_TRIP_AT_ANCHOR = ("jiangxin",)
