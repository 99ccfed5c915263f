// Every UI string of the console in Chinese and English, the language choice, and locale-aware formatting.
import { createContext, useContext } from 'react'

export type Lang = 'zh-CN' | 'en'
export const langs: readonly Lang[] = ['zh-CN', 'en']
const storageKey = 'puhui.lang'

const en = {
  'app.name': 'Puhui',
  'app.tagline': 'Online credit for small and micro businesses',
  'app.pitch': 'Data-driven credit decisions, servicing on a verifiable ledger.',
  'lang.label': 'Language',

  'login.title': 'Sign in to the console',
  'login.tenant': 'Tenant',
  'login.tenantHint': 'The short name of your organisation, e.g. demo',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.submitting': 'Signing in…',
  'login.signedOut': 'You have signed out.',
  'login.sessionEnded': 'Your session has ended. Please sign in again.',
  'login.demoHint': 'Running the demo? The demo logins are printed when the server starts.',

  'nav.main': 'Main navigation',
  'nav.home': 'Home',
  'nav.dashboard': 'Dashboard',
  'nav.enterprises': 'Enterprises',
  'nav.applications': 'Applications',
  'nav.loans': 'Loans',
  'nav.review': 'Review queue',
  'nav.strategies': 'Strategies',
  'nav.models': 'Models',
  'nav.ledger': 'Ledger / Journal',
  'nav.users': 'Users & keys',
  'nav.audit': 'Audit log',
  'nav.portal': 'Borrower portal',
  'nav.investor': 'Investor portal',
  'nav.supplyChain': 'Supply-chain finance',
  'nav.soon': 'soon',
  'nav.menu': 'Menu',

  'top.businessDate': 'Business date',
  'top.logout': 'Sign out',
  'top.loggingOut': 'Signing out…',
  'top.apiDocs': 'API reference',

  'role.admin': 'Administrator',
  'role.operator': 'Operator',
  'role.risk_analyst': 'Risk analyst',
  'role.reviewer': 'Reviewer',
  'role.borrower': 'Borrower',
  'role.investor': 'Investor',
  'role.core_enterprise': 'Core enterprise',
  'role.auditor': 'Auditor',

  'dashboard.title': 'Overview',
  'dashboard.subtitle': 'Headline figures of {tenant}',
  'kpi.enterprises': 'Enterprises',
  'kpi.users': 'Users',
  'kpi.activeApiKeys': 'Active API keys',
  'kpi.businessDate': 'Business date',
  'kpi.timeZone': 'Time zone {tz}',
  'chart.usersByRole': 'Users by role',
  'chart.auditByDay': 'Audit events, last 14 days',
  'chart.users': 'Users',
  'chart.events': 'Events',

  'home.title': 'Welcome, {name}',
  'home.signedInAs': 'You are signed in to {tenant} as {role}.',
  'home.borrower': 'See your enterprise’s profile now; credit applications, loans and repayments will appear here as the borrower portal is built.',
  'home.investor': 'The investor portal — funded loans, returns and statements — is on its way.',
  'home.core_enterprise': 'Supply-chain finance for your suppliers — confirming payables and tracking financed invoices — is on its way.',
  'home.staff': 'Use the menu to open the modules available to your role.',
  'home.modules': 'Your modules',

  'enterprises.title': 'Enterprises',
  'enterprises.subtitle': 'The small and micro businesses of this tenant.',
  'enterprises.subtitleBorrower': 'Your enterprise as registered with the lender.',
  'enterprises.empty': 'No enterprises yet. They appear here once created through the API (POST /v1/enterprises).',
  'col.name': 'Name',
  'col.uscc': 'Credit code (USCC)',
  'col.sector': 'Sector',
  'col.region': 'Region',
  'col.foundedOn': 'Founded',
  'col.createdAt': 'Added',

  'audit.title': 'Audit log',
  'audit.subtitle': 'Every sign-in, access and change, newest first. Reading this log is itself recorded.',
  'audit.empty': 'The audit log is empty.',
  'col.at': 'Time',
  'col.actor': 'Actor',
  'col.action': 'Action',
  'col.target': 'Target',
  'col.purpose': 'Purpose',
  'col.requestId': 'Request ID',

  'journal.title': 'Journal verification',
  'journal.subtitle': 'Check in this browser that the ledger’s journal is signed, and that a transfer is in it.',
  'journal.proves': 'What this proves: a signed tree head fixes every entry of the journal up to its size, so once this transfer’s inclusion proof leads to the signed root, the operator cannot change or remove the transfer without the signed root changing.',
  'journal.head.title': 'Latest signed tree head',
  'journal.head.none': 'No tree head has been signed in this session yet. Sign one to fix the journal as it stands now.',
  'journal.head.sign': 'Sign a new tree head',
  'journal.head.signing': 'Signing…',
  'journal.head.treeSize': 'Tree size',
  'journal.head.entries': '{n} entries',
  'journal.head.time': 'Signed at',
  'journal.head.rootHash': 'Root hash',
  'journal.head.keyId': 'Key ID',
  'journal.head.signature': 'Signature (Ed25519)',
  'journal.head.keyHint': 'The public key comes from GET /v1/keys/signing; compare its key ID with the one your organisation published.',
  'journal.sig.checking': 'Verifying the signature…',
  'journal.sig.verified': 'Signature verified in this browser',
  'journal.sig.bad_signature': 'Signature NOT valid for this key',
  'journal.sig.malformed': 'Tree head or key malformed: NOT verified',
  'journal.sig.unsupported': 'This browser cannot verify Ed25519 signatures',
  'journal.sig.unknown_key': 'Unknown key ID: NOT verified',
  'journal.cons.checking': 'Checking that it extends the previous head (size {from})…',
  'journal.cons.verified': 'Extends the previous head (size {from}): consistency proof verified in this browser — nothing before was changed or removed.',
  'journal.cons.failed': 'Does NOT extend the previous head (size {from}): the consistency proof failed.',
  'journal.lookup.title': 'Look up a transfer',
  'journal.lookup.id': 'Transfer ID',
  'journal.lookup.submit': 'Look up',
  'journal.lookup.busy': 'Looking up…',
  'journal.lookup.invalidId': 'A transfer ID is a UUID, e.g. 0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b.',
  'journal.transfer.amount': 'Amount',
  'journal.transfer.debit': 'Debit account',
  'journal.transfer.credit': 'Credit account',
  'journal.transfer.kind': 'Kind',
  'journal.transfer.valueDate': 'Value date',
  'journal.transfer.postedAt': 'Posted at',
  'journal.transfer.index': 'Journal index',
  'journal.transfer.leafHash': 'Leaf hash',
  'journal.kind.posted': 'Posted',
  'journal.kind.pending': 'Pending',
  'journal.kind.post_pending': 'Post of a pending transfer',
  'journal.kind.void_pending': 'Void of a pending transfer',
  'journal.kind.expire_pending': 'Expiry of a pending transfer',
  'journal.proof.title': 'Inclusion proof',
  'journal.proof.noHead': 'Sign a tree head first: the proof is checked against a signed root.',
  'journal.proof.newer': 'This transfer (journal index {index}) is newer than the signed tree head (size {size}). Sign a new tree head to check it.',
  'journal.proof.checking': 'Fetching the proof and verifying it…',
  'journal.proof.verified': 'Verified: this transfer is entry {index} of the journal whose root is signed in the tree head above (size {size}).',
  'journal.proof.failed': 'NOT verified: {reason}',
  'journal.proof.unsignedHead': 'The path leads to the root, but that root’s signature is not verified, so it is not proven to be the operator’s signed root.',
  'journal.proof.leafMismatch': 'The proof service answered leaf hash {leaf}, not the transfer’s.',
  'journal.fail.malformed': 'the proof is malformed.',
  'journal.fail.index_out_of_range': 'the entry is outside the tree.',
  'journal.fail.proof_too_long': 'the proof has too many steps for this tree.',
  'journal.fail.proof_too_short': 'the proof has too few steps for this tree.',
  'journal.fail.root_mismatch': 'the path leads to a different root than the signed one.',
  'journal.proof.computedRoot': 'Root computed here',
  'journal.proof.signedRoot': 'Signed root',
  'journal.proof.empty': 'The tree has one entry: the leaf hash itself is the root.',
  'journal.step.step': 'Step',
  'journal.step.level': 'Level',
  'journal.step.side': 'Sibling on the',
  'journal.step.sibling': 'Sibling hash',
  'journal.step.result': 'Hash after this step',
  'journal.step.left': 'left',
  'journal.step.right': 'right',
  'journal.step.how': 'Each step hashes 0x01 ‖ left ‖ right with SHA-256, starting from the leaf hash; the last result must equal the signed root.',

  'pager.prev': 'Previous',
  'pager.next': 'Next',
  'pager.page': 'Page {n}',
  'pager.label': 'Pagination',

  'common.loading': 'Loading…',
  'common.retry': 'Try again',
  'common.backHome': 'Back to home',

  'soon.title': '{module} — coming soon',
  'soon.body': 'This module is on the roadmap and not built yet. Meanwhile, the API reference lists everything available today.',
  'soon.badge': 'In development',
  'denied.title': 'Not available for your role',
  'denied.body': 'Your role ({role}) may not open this page. Ask an administrator of your tenant if you need access.',
  'notFound.title': 'Page not found',
  'notFound.body': 'There is no console page at {path}.',
  'boot.error': 'The console could not start',

  'error.invalid_credentials': 'Wrong tenant, email or password. Check them and try again.',
  'error.unauthenticated': 'You are not signed in, or your session has ended. Please sign in again.',
  'error.session_expired': 'Your session has expired. Please sign in again.',
  'error.forbidden': 'Your role may not see this. Ask an administrator if you need access.',
  'error.csrf_token_invalid': 'The security token did not match. Reload the page and try again.',
  'error.not_found': 'Not found: it may have been removed, or it is outside your scope.',
  'error.missing_field': 'A required field is missing: {detail}',
  'error.invalid_field': 'A field is invalid: {detail}',
  'error.database_unavailable': 'The database is unavailable. Try again in a minute; if it persists, tell your operations team.',
  'error.internal_error': 'Something went wrong on the server. Try again; if it persists, report request ID {requestId}.',
  'error.network': 'Cannot reach the server. Check your connection and try again.',
  'error.client_error': 'This page failed to load ({detail}). Reload the page; if it persists, report it.',
  'error.generic': 'The request failed ({code}): {detail}',
} as const

export type MessageKey = keyof typeof en

const zh: Record<MessageKey, string> = {
  'app.name': '普惠',
  'app.tagline': '小微企业线上信贷平台',
  'app.pitch': '数据驱动的授信决策，基于可验证账本的贷后管理。',
  'lang.label': '语言',

  'login.title': '登录控制台',
  'login.tenant': '租户',
  'login.tenantHint': '贵机构的简称，例如 demo',
  'login.email': '邮箱',
  'login.password': '密码',
  'login.submit': '登录',
  'login.submitting': '正在登录…',
  'login.signedOut': '您已退出登录。',
  'login.sessionEnded': '登录已失效，请重新登录。',
  'login.demoHint': '正在运行演示？服务启动时会打印演示账号。',

  'nav.main': '主导航',
  'nav.home': '首页',
  'nav.dashboard': '运营看板',
  'nav.enterprises': '企业',
  'nav.applications': '授信申请',
  'nav.loans': '贷款',
  'nav.review': '审批队列',
  'nav.strategies': '决策策略',
  'nav.models': '评分模型',
  'nav.ledger': '账务 / 分录',
  'nav.users': '用户与密钥',
  'nav.audit': '审计日志',
  'nav.portal': '借款人门户',
  'nav.investor': '投资人门户',
  'nav.supplyChain': '供应链金融',
  'nav.soon': '即将上线',
  'nav.menu': '菜单',

  'top.businessDate': '营业日',
  'top.logout': '退出登录',
  'top.loggingOut': '正在退出…',
  'top.apiDocs': 'API 文档',

  'role.admin': '管理员',
  'role.operator': '运营人员',
  'role.risk_analyst': '风险分析师',
  'role.reviewer': '审批员',
  'role.borrower': '借款人',
  'role.investor': '投资人',
  'role.core_enterprise': '核心企业',
  'role.auditor': '审计员',

  'dashboard.title': '运营概览',
  'dashboard.subtitle': '{tenant} 的关键指标',
  'kpi.enterprises': '企业数',
  'kpi.users': '用户数',
  'kpi.activeApiKeys': '有效 API 密钥',
  'kpi.businessDate': '营业日',
  'kpi.timeZone': '时区 {tz}',
  'chart.usersByRole': '各角色用户数',
  'chart.auditByDay': '近 14 天审计事件',
  'chart.users': '用户数',
  'chart.events': '事件数',

  'home.title': '欢迎，{name}',
  'home.signedInAs': '您已以{role}身份登录 {tenant}。',
  'home.borrower': '现在可以查看贵企业的信息；授信申请、贷款与还款功能将随借款人门户陆续上线。',
  'home.investor': '投资人门户（已投贷款、收益与对账单）即将上线。',
  'home.core_enterprise': '面向上游供应商的供应链金融（应付账款确认、融资发票跟踪）即将上线。',
  'home.staff': '请通过菜单进入您的角色可用的模块。',
  'home.modules': '您的模块',

  'enterprises.title': '企业',
  'enterprises.subtitle': '本租户服务的小微企业。',
  'enterprises.subtitleBorrower': '贵企业在本机构登记的信息。',
  'enterprises.empty': '暂无企业。通过 API（POST /v1/enterprises）创建后将显示在这里。',
  'col.name': '名称',
  'col.uscc': '统一社会信用代码',
  'col.sector': '行业',
  'col.region': '地区',
  'col.foundedOn': '成立日期',
  'col.createdAt': '录入时间',

  'audit.title': '审计日志',
  'audit.subtitle': '所有登录、访问与变更记录，按时间倒序。查看本日志的操作同样会被记录。',
  'audit.empty': '审计日志为空。',
  'col.at': '时间',
  'col.actor': '操作者',
  'col.action': '操作',
  'col.target': '对象',
  'col.purpose': '目的',
  'col.requestId': '请求 ID',

  'journal.title': '分录验证',
  'journal.subtitle': '在本浏览器中验证账本分录日志已签名，并验证某笔转账确在其中。',
  'journal.proves': '这证明了什么：签名树头固定了分录日志中截至其大小的每一条记录；一旦这笔转账的包含证明能推算出已签名的根哈希，运营方就无法在不改变已签名根哈希的情况下篡改或删除这笔转账。',
  'journal.head.title': '最新签名树头',
  'journal.head.none': '本次会话尚未签署树头。签署一个树头，以固定分录日志的当前状态。',
  'journal.head.sign': '签署新树头',
  'journal.head.signing': '正在签署…',
  'journal.head.treeSize': '树大小',
  'journal.head.entries': '{n} 条记录',
  'journal.head.time': '签署时间',
  'journal.head.rootHash': '根哈希',
  'journal.head.keyId': '密钥 ID',
  'journal.head.signature': '签名（Ed25519）',
  'journal.head.keyHint': '公钥取自 GET /v1/keys/signing；请将其密钥 ID 与贵机构公布的密钥 ID 核对。',
  'journal.sig.checking': '正在验证签名…',
  'journal.sig.verified': '签名已在本浏览器中验证',
  'journal.sig.bad_signature': '签名与该密钥不符：未通过验证',
  'journal.sig.malformed': '树头或密钥格式有误：未通过验证',
  'journal.sig.unsupported': '本浏览器不支持验证 Ed25519 签名',
  'journal.sig.unknown_key': '未知的密钥 ID：未通过验证',
  'journal.cons.checking': '正在检查其是否延续上一个树头（大小 {from}）…',
  'journal.cons.verified': '延续上一个树头（大小 {from}）：一致性证明已在本浏览器中验证，此前的记录未被篡改或删除。',
  'journal.cons.failed': '未延续上一个树头（大小 {from}）：一致性证明验证失败。',
  'journal.lookup.title': '查询转账',
  'journal.lookup.id': '转账 ID',
  'journal.lookup.submit': '查询',
  'journal.lookup.busy': '正在查询…',
  'journal.lookup.invalidId': '转账 ID 应为 UUID，例如 0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b。',
  'journal.transfer.amount': '金额',
  'journal.transfer.debit': '借方账户',
  'journal.transfer.credit': '贷方账户',
  'journal.transfer.kind': '类型',
  'journal.transfer.valueDate': '起息日',
  'journal.transfer.postedAt': '记账时间',
  'journal.transfer.index': '分录序号',
  'journal.transfer.leafHash': '叶哈希',
  'journal.kind.posted': '已入账',
  'journal.kind.pending': '预授权（待定）',
  'journal.kind.post_pending': '待定转账确认入账',
  'journal.kind.void_pending': '待定转账撤销',
  'journal.kind.expire_pending': '待定转账过期',
  'journal.proof.title': '包含证明',
  'journal.proof.noHead': '请先签署树头：包含证明需对照已签名的根哈希进行验证。',
  'journal.proof.newer': '这笔转账（分录序号 {index}）晚于已签名树头（大小 {size}）。请签署新树头后再验证。',
  'journal.proof.checking': '正在获取并验证证明…',
  'journal.proof.verified': '已验证：这笔转账是分录日志的第 {index} 号记录，该日志的根哈希已由上方树头签名（大小 {size}）。',
  'journal.proof.failed': '未通过验证：{reason}',
  'journal.proof.unsignedHead': '路径可推算出根哈希，但该根哈希的签名未通过验证，因此无法证明它就是运营方签名的根哈希。',
  'journal.proof.leafMismatch': '证明服务返回的叶哈希为 {leaf}，与这笔转账的不一致。',
  'journal.fail.malformed': '证明格式有误。',
  'journal.fail.index_out_of_range': '该记录不在树中。',
  'journal.fail.proof_too_long': '对这棵树而言，证明的步骤过多。',
  'journal.fail.proof_too_short': '对这棵树而言，证明的步骤过少。',
  'journal.fail.root_mismatch': '路径推算出的根哈希与已签名的根哈希不同。',
  'journal.proof.computedRoot': '本地计算的根哈希',
  'journal.proof.signedRoot': '已签名的根哈希',
  'journal.proof.empty': '树中只有一条记录：叶哈希本身就是根哈希。',
  'journal.step.step': '步骤',
  'journal.step.level': '层级',
  'journal.step.side': '兄弟节点位置',
  'journal.step.sibling': '兄弟节点哈希',
  'journal.step.result': '本步结果哈希',
  'journal.step.left': '左',
  'journal.step.right': '右',
  'journal.step.how': '从叶哈希开始，每一步用 SHA-256 计算 0x01 ‖ 左 ‖ 右；最后一步的结果必须等于已签名的根哈希。',

  'pager.prev': '上一页',
  'pager.next': '下一页',
  'pager.page': '第 {n} 页',
  'pager.label': '分页',

  'common.loading': '加载中…',
  'common.retry': '重试',
  'common.backHome': '返回首页',

  'soon.title': '{module}（即将上线）',
  'soon.body': '该模块已列入开发计划，尚未上线。目前可用的全部功能请参阅 API 文档。',
  'soon.badge': '开发中',
  'denied.title': '当前角色无权访问',
  'denied.body': '您的角色（{role}）不能打开此页面。如需权限，请联系本租户的管理员。',
  'notFound.title': '页面不存在',
  'notFound.body': '控制台中没有 {path} 这个页面。',
  'boot.error': '控制台无法启动',

  'error.invalid_credentials': '租户、邮箱或密码错误，请检查后重试。',
  'error.unauthenticated': '您尚未登录或登录已失效，请重新登录。',
  'error.session_expired': '会话已过期，请重新登录。',
  'error.forbidden': '您的角色无权查看此内容。如需权限，请联系管理员。',
  'error.csrf_token_invalid': '安全令牌不匹配，请刷新页面后重试。',
  'error.not_found': '未找到：可能已被删除，或不在您的权限范围内。',
  'error.missing_field': '缺少必填项：{detail}',
  'error.invalid_field': '填写内容有误：{detail}',
  'error.database_unavailable': '数据库暂不可用，请稍后重试；如持续出现，请联系运维团队。',
  'error.internal_error': '服务器出错，请重试；如持续出现，请提供请求 ID {requestId}。',
  'error.network': '无法连接服务器，请检查网络后重试。',
  'error.client_error': '页面加载失败（{detail}），请刷新页面；如持续出现，请反馈给我们。',
  'error.generic': '请求失败（{code}）：{detail}',
}

const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, 'zh-CN': zh }

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string

export function translator(lang: Lang): Translate {
  const dictionary = dictionaries[lang]
  return (key, params) => {
    const text = dictionary[key]
    if (params === undefined) return text
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
  }
}

export function isMessageKey(key: string): key is MessageKey {
  return key in en
}

/** The saved choice, else the browser language: Chinese if it starts with zh, else English. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(storageKey)
    if (saved === 'zh-CN' || saved === 'en') return saved
  } catch {
    // storage may be unavailable (private mode); fall back to the browser language
  }
  const browser = (navigator.languages?.[0] ?? navigator.language ?? '').toLowerCase()
  return browser.startsWith('zh') ? 'zh-CN' : 'en'
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem(storageKey, lang)
  } catch {
    // not remembered; the choice still holds for this page
  }
  document.documentElement.lang = lang
}

export type I18n = {
  lang: Lang
  setLang(lang: Lang): void
  t: Translate
  formatNumber(value: number): string
  formatDateTime(iso: string): string
  formatDate(isoDate: string): string
}

export function makeI18n(lang: Lang, setLang: (lang: Lang) => void): I18n {
  const numbers = new Intl.NumberFormat(lang)
  const dateTimes = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' })
  const dates = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' })
  return {
    lang,
    setLang,
    t: translator(lang),
    formatNumber: (value) => numbers.format(value),
    formatDateTime: (iso) => {
      const date = new Date(iso)
      return Number.isNaN(date.getTime()) ? iso : dateTimes.format(date)
    },
    // A calendar date (YYYY-MM-DD) has no time zone: format it as the same day everywhere.
    formatDate: (isoDate) => {
      const date = new Date(`${isoDate}T00:00:00Z`)
      return Number.isNaN(date.getTime()) ? isoDate : dates.format(date)
    },
  }
}

export const I18nContext = createContext<I18n>(makeI18n('en', () => {}))

export function useI18n(): I18n {
  return useContext(I18nContext)
}
