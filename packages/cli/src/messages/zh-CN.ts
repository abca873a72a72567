import type { Messages } from "./en.js";

/** commander's help headings, as the help shows them. */
const HELP_TITLES: Record<string, string> = {
  "Usage:": "用法：",
  "Arguments:": "参数：",
  "Options:": "选项：",
  "Commands:": "命令：",
  "Global Options:": "全局选项：",
};

/** commander's parse errors (commander 14's wording), each a pattern and its Chinese. */
const COMMANDER_ERRORS: Array<[RegExp, string]> = [
  [/^error: unknown command '(.*?)'/, "错误：未知的命令 '$1'"],
  [/^error: unknown option '(.*?)'/, "错误：未知的选项 '$1'"],
  [/^error: missing required argument '(.*?)'/, "错误：缺少必需的参数 '$1'"],
  [/^error: option '(.*?)' argument missing/, "错误：选项 '$1' 缺少取值"],
  [/^error: required option '(.*?)' not specified/, "错误：未指定必需的选项 '$1'"],
  [
    /^error: too many arguments(?: for '(.*?)')?\. Expected (\d+) arguments? but got (\d+)\./,
    "错误：参数过多：应为 $2 个，实际为 $3 个。",
  ],
  [
    /^error: command-argument value '(.*?)' is invalid for argument '(.*?)'\. Allowed choices are (.*)\./,
    "错误：参数 '$2' 的取值 '$1' 无效，可选值为 $3。",
  ],
  [
    /^error: option '(.*?)' argument '(.*?)' is invalid\. Allowed choices are (.*)\./,
    "错误：选项 '$1' 的取值 '$2' 无效，可选值为 $3。",
  ],
  [/\n\(Did you mean one of (.*)\?\)/, "\n（你要输入的是不是以下之一：$1？）"],
  [/\n\(Did you mean (.*)\?\)/, "\n（你要输入的是不是 $1？）"],
];

/** A knowledge service's document status, as a finished document's line shows it. */
const DOCUMENT_STATUS: Record<string, string> = {
  indexed: "已索引",
  skipped: "未变化",
  failed: "失败",
  deleted: "已删除",
};

export const zhCN: Messages = {
  // ── hearth and commander's help ──────────────────────────────────────────────────────────────
  programDescription:
    "Hearth：为团队打造的私有化 ChatGPT——聊天界面、模型、联网搜索和知识库，全部运行在你自己的机器上。",
  helpOptionDescription: "显示命令的帮助",
  versionOptionDescription: "输出版本号",
  helpTitle: (title) => HELP_TITLES[title] ?? title,
  helpExtras: (extras) =>
    extras
      .replace(/\bchoices: /g, "可选值：")
      .replace(/\bdefault: /g, "默认：")
      .replace(/\bpreset: /g, "预设：")
      .replace(/\benv: /g, "环境变量："),
  commanderError: (message) =>
    COMMANDER_ERRORS.reduce((text, [pattern, chinese]) => text.replace(pattern, chinese), message),

  // ── errors ───────────────────────────────────────────────────────────────────────────────────
  errorLine: (line) => `${line}（错误码说明见 docs/zh/errors.md）`,
  plainError: (message) => `错误：${message}`,
  warning: (message) => `警告：${message}`,

  // ── hearth up / serve ────────────────────────────────────────────────────────────────────────
  upDescription: "在本进程中启动全部四个服务（model、search、knowledge、web）",
  upReady: (url) => `Hearth 已就绪：请打开 ${url}`,
  serveDescription: "运行单个服务（即该服务容器的入口）",
  serveServiceArgument: "要运行的服务",
  serveReady: (name, address) => `hearth: ${name} 服务已就绪：${address}`,
  allInterfaces: (port, lan) =>
    `http://localhost:${port}（监听所有网络接口${lan ? `；其他机器请访问 http://${lan}:${port}` : ""}）`,
  secondSignal: "hearth: 再次收到信号，不再等待，立即退出",
  signalReceived: (signal) => `hearth: 收到 ${signal}，正在停止`,
  serviceDidNotStop: (name, message) => `hearth: ${name} 服务未能正常停止：${message}`,
  stopped: "hearth: 已停止",

  // ── the data dir (start-up) ──────────────────────────────────────────────────────────────────
  dataDirNotWritable: (dir, code) =>
    `无法写入数据目录 ${dir}（${code}）；请修正其权限，或设置 HEARTH_DATA_DIR`,
  modelsDirMissing: (dir) => `模型目录 ${dir}（HEARTH_MODELS_DIR）不存在；请创建它或修正路径`,
  closedToOthers: (dir, from, to) => `已禁止本机其他用户访问 ${dir}（权限 ${from} -> ${to}）`,

  // ── hearth doctor ────────────────────────────────────────────────────────────────────────────
  doctorDescription:
    "检查模型、Ollama、数据目录及其数据库、数据库结构、文档文件、端口和内存，并给出每个问题的处理办法",
  doctorFinding: (mark, subject, detail) => `[${mark}] ${subject}：${detail}`,
  doctorFix: (fix) => `       处理办法：${fix}`,
  doctorTotals: (failed, warned) => `${failed} 个问题，${warned} 个警告`,
  subjectConfiguration: "配置",
  subjectDataDir: "数据目录",
  subjectDatabase: "数据库",
  subjectSchema: "数据库结构",
  subjectDocuments: "文档",
  subjectKnowledgeIndex: "知识库索引",
  subjectModelFile: "模型文件",
  subjectOllama: "Ollama",
  subjectModels: "模型",
  subjectPorts: "端口",
  subjectPort: (service) => `${service} 端口`,
  subjectSingleSignOn: "单点登录",
  subjectMemory: "内存",
  subjectThreads: "线程",
  configFix: "在 hearth.yaml 或环境变量中修正上面指出的配置项",
  configLoaded: (file) => `已读取 ${file}`,
  configDefaults: "默认值和环境变量（没有 hearth.yaml）",
  threadsDetail: (threads, cores) => `llama.cpp 在 ${cores} 个核上使用 ${threads} 个线程`,
  threadsFix: (cores) => `把 HEARTH_THREADS 设为不超过 ${cores}`,
  dataDirWritable: (dir) => `${dir} 可写`,
  modelsDirFix: (dir) => `mkdir -p ${dir}`,
  dataDirFix: "把该目录 chown 给当前用户，或设置 HEARTH_DATA_DIR",
  databaseOk: (file) => `${file} 可以打开，通过 quick_check，且可写`,
  databaseNotWritableFix: (file) =>
    `把该文件（及其 -wal、-shm 文件）chown 给运行 Hearth 的用户，或执行 chmod u+w ${file}`,
  databaseDamagedFix: (file) =>
    `停止 Hearth 并恢复最近的备份（hearth restore <备份目录>），或把 ${file} 移走以从空数据库开始`,
  schemaPostgresWebDatabase: "PostgreSQL 中的 web 数据库",
  schemaAfterBackup: "先自动备份",
  schemaTakePgDump: "请先用 pg_dump 备份",
  schemaNew: (where) => `${where} 是新的：下次启动时创建其表`,
  schemaPending: (where, applied, latest, pending, safety) =>
    `${where} 处于第 ${applied} 步（共 ${latest} 步）：下次启动时执行其余 ${pending} 步（${safety}）`,
  schemaCurrent: (where, latest) => `${where} 与本版本 Hearth 的数据库结构一致（第 ${latest} 步）`,
  schemaTooNewFix:
    "重新启动写入它的那个更新版本的 Hearth，或恢复那次升级前的备份（hearth restore <数据目录>/backups/pre-migration-...；PostgreSQL：你的 pg_dump 备份）",
  schemaSeeDatabaseFix: "见上面关于数据库的检查结果",
  schemaPostgresFix: "启动 PostgreSQL，或修正 web.databaseUrl（HEARTH_DATABASE_URL）",
  documentsStored: "每个文档的文件都在",
  knowledgeIndexAnswers: "其 PostgreSQL 有应答",
  knowledgeIndexFix: "启动 PostgreSQL，或修正 knowledge.indexPostgresUrl（HEARTH_KNOWLEDGE_POSTGRES_URL）",
  modelFileSkipped: (path, why) => `${path} 已跳过：${why}`,
  modelFileInvalid: (path, error) => `${path}：${error ?? "不是有效的 GGUF"}`,
  modelFileInvalidFix: "重新下载（文件被截断或不是 GGUF），或删除它",
  ollamaAnswers: (url, version, models) => `${url} 有应答（版本 ${version}，${models} 个模型）`,
  ollamaDoesNotAnswer: (url) => `${url} 没有应答`,
  ollamaOptional: "（可选）",
  ollamaFix: "启动 Ollama（`ollama serve`），或修正 OLLAMA_HOST",
  modelsFound: (count, dir, names) => `${dir} 中有 ${count} 个 GGUF 模型${names ? `：${names}` : ""}`,
  noModelYet: (dir) => `还没有模型：${dir} 中没有 .gguf 文件，也连不上 Ollama`,
  noModelYetFix: (dir) =>
    `把 .gguf 文件放进 ${dir}，或把 OLLAMA_HOST 指向一个 Ollama，或在联网时拉取一个模型：hearth models pull <name>`,
  portsFix: "在 hearth.yaml 或环境变量中为每个服务设置各自的端口",
  portFree: (address) => `${address} 空闲`,
  portInUseByHearth: (address, service) => `${address} 正由运行中的 Hearth ${service} 服务使用`,
  portTaken: (address) => `${address} 已被其他进程占用`,
  portTakenFix: (env) => `停止该进程，或设置 ${env}`,
  singleSignOnAnswers: (issuer, keys, authMethod) =>
    `${issuer} 有应答：${keys} 个签名密钥，客户端认证方式 ${authMethod}`,
  singleSignOnFix: "检查 web.oidc.issuer（HEARTH_OIDC_ISSUER），并确认本机能访问身份提供方",
  memoryDetail: (free, total) => `可用 ${free} GiB，共 ${total} GiB`,
  memoryFix: "Q4 量化的 1.5B 模型约需 2 GiB：关闭其他程序、增加交换空间，或使用更小的量化版本",

  // ── documents missing their files (hearth doctor, backup, restore) ───────────────────────────
  missingFile: (what, path) => `${what}（${path}）`,
  missingFilesMore: (count) => `，另有 ${count} 个`,
  missingFiles: (count, dataDir, shown, more) =>
    `knowledge.db 记录的 ${count} 个文档文件不在 ${dataDir} 中：${shown}${more}`,
  missingFilesFix: "检索仍能找到这些文档，但无法打开或重新索引它们：请重新上传，或删除这些文档",

  // ── hearth models ────────────────────────────────────────────────────────────────────────────
  modelsDescription: "列出、查看已加载、拉取、导入、删除模型，为模型打标签和回滚版本",
  hashingToRegister: (file) => `正在计算 ${file} 的哈希以登记它`,
  pullStatus: (status) => {
    if (status === "pulling manifest") return "正在拉取清单";
    if (status === "writing manifest") return "正在写入清单";
    if (status === "verifying sha256 digest") return "正在校验 sha256 摘要";
    if (status === "success") return "完成";
    return status
      .replace(/^pulling (.+)$/, "正在拉取 $1")
      .replace(/^downloading (.+)$/, "正在下载 $1")
      .replace(
        /^waiting for another pull of the same file \((.*)\)$/,
        "正在等待同一文件的另一个拉取完成（$1）",
      );
  },
  modelsPsDescription: "模型服务内存中已加载的模型：大小、上下文，以及各自何时卸载",
  modelsPsHint: "它在运行吗（hearth up）？",
  modelServiceAnswered: (status, text) => `模型服务返回 ${status}：${text}`,
  modelServiceNoList: "模型服务没有返回模型列表",
  noModelLoaded: "没有已加载的模型；模型服务会在第一次被请求时加载模型。",
  modelsListDescription: "已安装的模型及其版本、内容摘要和大小，以及被跳过的文件",
  noModelsServed: (dir) => `${dir} 中没有可提供服务的模型。`,
  noModelsIn: (dir) =>
    `${dir} 中没有模型。把 .gguf 文件放进该目录，运行 \`hearth models pull <name>\`，或把 OLLAMA_HOST 指向一个 Ollama。`,
  modelsPullDescription:
    "从 Ollama 模型仓库（name[:tag]、host/namespace/name:tag）或 GGUF 文件的 URL 拉取模型；中断后可续传",
  modelsPullReference:
    "例如 deepseek-r1:1.5b、http://registry.local/library/tiny:latest、https://host/model.gguf",
  modelsPullName: "以这个 name:tag 安装",
  modelsPullInsecure: "对没有写明协议的仓库主机使用 http://",
  pullInterrupted: "已中断；再次运行同一命令即可继续下载",
  modelsImportDescription: "导入本机 Ollama 已拉取的模型（链接其 blob，不复制任何内容）",
  modelsImportName: "Ollama 中的模型名，例如 deepseek-r1:1.5b",
  modelsImportFrom: "Ollama 的模型目录（默认：HEARTH_OLLAMA_MODELS_DIR、OLLAMA_MODELS 或 ~/.ollama/models）",
  modelsImportAs: "以另一个 name:tag 安装",
  modelsRmDescription: "删除模型；没有其他模型使用其权重时一并删除权重（并说明结果）",
  removedFile: (name, file) => `已删除 ${name}（${file}）`,
  removedFromRegistry: (name) => `已从模型注册表中删除 ${name}`,
  deletedWeights: (digest, size) => `已删除其权重 ${digest}（${size}）：没有其他模型使用`,
  keptWeightsUsed: (digest, users) => `保留了其权重 ${digest}：${users} 仍在使用`,
  keptWeightsOutside: (digest, outside) =>
    `保留了其权重 ${digest}：它们不在模型注册表中（${outside}），模型注册表从不删除它们`,
  keptFile: (file) => `保留了 ${file}：它不是模型注册表自己的文件（仍在写入？）；请自行删除`,
  modelsTagDescription: "让模型同时以另一个 name:tag 提供服务（不复制任何数据）",
  modelsRollbackDescription: "把模型切换回上一个版本（或用 --to 指定的版本）",
  modelsRollbackTo: "要切换到的语义化版本号",
  rolledBack: (name, version, digest) => `${name} 现在是 ${version}（${digest}）`,

  // ── hearth users ─────────────────────────────────────────────────────────────────────────────
  usersDescription: "添加账号、重置密码、创建管理员、列出账号（服务停止时也可使用）",
  passwordPrompt: "密码：",
  newPasswordPrompt: (name) => `${name} 的新密码：`,
  dataDirNotADirectory: "不是目录（被一个文件占用）",
  dataDirUnreadable: (code) => `无法读取（${code}）`,
  dataDirProblem: (dir, reason) => `数据目录 ${dir} ${reason}`,
  noWebDatabase: (dir, mayCreate) =>
    `${dir} 中没有 web 数据库（web.sqlite）：HEARTH_DATA_DIR（或 dataDir）是 Hearth 运行时使用的数据目录吗？` +
    (mayCreate ? "只有在新的空数据目录中才会创建新数据库。" : ""),
  usersCreateAdminDescription: "创建管理员，或把已有用户提升为管理员并重置其密码",
  usersUsernameOption: "用户名",
  usersPasswordStdinOption: "从标准输入读取密码（供脚本使用）",
  createdWebDatabase: (file) => `新的数据目录：已创建 web 数据库 ${file}`,
  createdAdministrator: (name) => `已创建管理员 ${name}`,
  promotedAdministrator: (name) => `${name} 现在是管理员（密码已重置）`,
  usersCreateDescription: "创建一个启用的账号（加 --admin 则为管理员），不受注册方式限制",
  usersAdminOption: "使该账号成为管理员",
  createdUser: (name) => `已创建普通用户 ${name}`,
  createdFirstAdministrator: (name) => `已创建管理员 ${name}（第一个账号总是管理员）`,
  usersResetPasswordDescription: "为用户设置新密码，并让其所有会话退出登录（其 API key 仍然有效）",
  passwordReset: (name) => `已重置 ${name} 的密码；其所有会话已退出登录`,
  usersListDescription: "列出账号及其角色和状态",
  noAccounts:
    "还没有任何账号：在网页界面注册的第一个账号将成为管理员，也可以用 `hearth users create-admin -u <name>` 创建",

  // ── hearth backup / restore ──────────────────────────────────────────────────────────────────
  backupDescription: "在 Hearth 运行期间为数据目录（数据库、索引、模型清单）和配置文件做快照",
  backupDestination: "存放备份的新目录（默认：<dataDir>/backups/hearth-<time>）",
  backupIncludeModels: "同时复制模型权重（.gguf 文件和注册表中的 blob；体积大，可以重新拉取）",
  backupKeep: "备份完成后删除同一位置最旧的 hearth-<time> 备份，只保留 <count> 个（不删除其他任何内容）",
  note: (note) => `注意：${note}`,
  backupCancelled: "备份已取消；没有写入任何内容",
  backupWritten: (destination) => `备份已写入 ${destination}`,
  backupSummary: (files, databases, size) =>
    `${files} 个文件（其中 ${databases} 个数据库），${size}，校验和记录在 manifest.json 中`,
  backupRegistry: (dir) => `已备份模型注册表（标签、版本、回滚历史），来自 ${dir}`,
  backupWeightsOutside: (modelsDir, dataDir) =>
    `警告：${modelsDir} 中的模型权重（在数据目录 ${dataDir} 之外）没有复制；请备份该存储卷，或之后重新拉取模型`,
  notInBackup: (note) => `不在本次备份中：${note}`,
  backupMissingFiles: (line, fix) => `警告：${line}，因此本次备份无法包含它们；${fix}`,
  backupNothing: (dataDir, registryDir) =>
    `警告：没有可备份的内容：${dataDir} 中没有数据${registryDir ? `，${registryDir} 中也没有模型注册表` : ""}；HEARTH_DATA_DIR 是本服务写入的目录吗？`,
  deletedOldBackup: (path) => `已删除旧备份 ${path}`,
  keptBackups: (kept, deleted) => `保留 ${kept} 个备份，删除 ${deleted} 个`,
  keepNotANumber: (count) => `--keep 接受要保留的备份个数，应为不小于 1 的整数，而不是 "${count}"`,
  keepDestinationName: (destination, example) =>
    `--keep 无法判断 ${destination} 旁边哪些文件夹是备份：它只把名为 hearth-<time> 的文件夹算作备份；请这样命名目标目录（${example}，或在 shell 中写 "hearth-$(date -u +%Y-%m-%dT%H-%M-%SZ)"），或不指定目标目录，备份到 <dataDir>/backups`,
  copyingDatabases: (count) => `正在复制 ${count} 个数据库`,
  checkingDocumentFiles: "正在检查每个文档的文件都已在备份中",
  copyingFiles: (count) => `正在复制 ${count} 个文件`,
  webDatabaseInPostgres: (dump, restore) =>
    `web 数据库（账号、对话、设置、用量）在 PostgreSQL 中（HEARTH_DATABASE_URL）；请用 ${dump} 备份，并用 ${restore} 恢复该备份`,
  rebuildIndex:
    "或者对每个知识库调用 POST /v1/knowledge-bases/{id}/reindex?all=true，从本次备份中的文档文件重建索引",
  knowledgeIndexInPostgres: (dump, restore, rebuild) =>
    `知识库索引（分块及其向量）在 PostgreSQL 中（HEARTH_KNOWLEDGE_POSTGRES_URL）；请用 ${dump} 备份，并用 ${restore} 恢复该备份，${rebuild}`,
  knowledgeIndexInElasticsearch: (index, rebuild) =>
    `知识库索引（分块及其向量）在 Elasticsearch 中（HEARTH_KNOWLEDGE_ELASTICSEARCH_URL），索引名 ${index}；请为该索引做 Elasticsearch 快照备份，并恢复该快照，${rebuild}`,
  environmentNotInBackup:
    "环境变量从不包含在备份中（服务令牌 HEARTH_SERVICE_TOKEN、数据库 URL 如 HEARTH_DATABASE_URL、Webhook 密钥如 HEARTH_ALERT_WEBHOOK_SECRET、单点登录客户端密钥 HEARTH_OIDC_CLIENT_SECRET）：请照原样设置",
  restoreDescription: "校验由 `hearth backup` 生成的备份并将其恢复（请先停止 Hearth）",
  restoreBackupArgument: "备份目录（包含 manifest.json 的目录）",
  fileOpen: (path) => `${path} 已打开`,
  stillRunning: (running) =>
    `Hearth 仍在运行（${running}）；请先停止它再恢复：恢复期间或之后它写入的内容会丢失`,
  restored: (files, dataDir, createdAt) => `已把 ${files} 个文件恢复到 ${dataDir}（备份时间 ${createdAt}）`,
  previousDataKept: (path) => `被替换的数据保留在 ${path}`,
  configRestored: (path) => `配置文件已恢复到 ${path}`,
  configNotRestored: (why) => `警告：配置文件未恢复：${why}`,
  configLeftInBackup: (file, reason) => `配置文件未恢复：备份中的文件为 ${file}（${reason}）`,
  notRestored: (note) => `不在本次备份中，因此未恢复：${note}`,
  modelRegistryRestored: (path) => `模型注册表已恢复到 ${path}`,
  restoreMissingFiles: (line, fix) => `警告：${line}；${fix}`,
  weightsLeftOut: (models) =>
    `本次备份不含模型权重（备份时没有加 --include-models），因此在重新拉取、导入或拷回权重之前，以下模型不提供服务：${models}`,
  holdsDataDir: (pid, services) => `进程 ${pid} 为 ${services} 占用着数据目录`,
  serviceOnPort: (name, port) => `${name} 在端口 ${port} 上`,

  // ── hearth ingest ────────────────────────────────────────────────────────────────────────────
  ingestDescription: "把文件或文件夹上传到知识库，并跟踪其导入进度",
  ingestKbArgument: "知识库名称或 id",
  ingestPathsArgument: "要上传的文件或文件夹（遍历文件夹；跳过隐藏条目）",
  ingestCreateOption: "没有同名知识库时创建它",
  ingestEmbeddingModelOption: "用 --create 创建的知识库所用的向量模型",
  ingestOwnerOption:
    "知识库所属的 web 账号（仅该账号可见，如同在网页界面中创建）；不指定时，在这里创建的知识库不属于任何 web 用户",
  ingestUrlOption: "知识库服务的 URL（默认：services.knowledgeUrl / HEARTH_KNOWLEDGE_URL）",
  ingestCancelling: "正在取消（再按一次 Ctrl-C 直接退出，不取消）",
  cannotReadEntry: (reason) => `无法读取该条目：${reason}`,
  twoFilesOneName: (name) => `有两个文件会被上传为同一个名为 "${name}" 的文档`,
  noFilesFound: (unreadable, first, more) =>
    `给出的路径下没有找到文件${first ? `（${unreadable} 个无法读取：${first}${more ? "，…" : ""}）` : ""}`,
  ingestUnchanged: (count) => `${count} 个未变化`,
  ingestFailed: (count) => `${count} 个失败`,
  jobUnfinished: (job) => `导入任务 ${job} 尚未完成，将在服务再次启动时继续`,
  jobsUnfinished: (jobs) => `导入任务 ${jobs} 尚未完成，将在服务再次启动时继续`,
  ingestInterrupted: (indexed, total, others, jobsLeft) =>
    `已中断：${total} 个中已索引 ${indexed} 个${others ? `（${others}）` : ""}；${jobsLeft}`,
  ingestSummary: (indexed, unchanged, failed) =>
    `已索引 ${indexed} 个，${unchanged} 个未变化，${failed} 个失败`,
  notUploaded: (count, total, error) =>
    `${total} 个文件中有 ${count} 个未上传：${error}；再次运行该命令即可上传它们`,
  jobCancelled: (job, indexed) => `已取消导入任务 ${job}（取消前已索引 ${indexed} 个文档）`,
  jobNotCancelled: (job, message) => `无法取消导入任务 ${job}：${message}`,
  interruptedBeforeUpload: "在上传任何文件之前已中断",
  knowledgeServiceHint: "它在运行吗？（HEARTH_KNOWLEDGE_URL）",
  knowledgeBasesSameName: (count, name, ids) =>
    `有 ${count} 个知识库名为 "${name}"（属于不同用户）：请给出你要的那个知识库的 id（${ids}）`,
  noKnowledgeBaseNamed: (name) => `没有名为 "${name}" 的知识库（加 --create 可创建它）`,
  ingestProgressLine: (done, total, status, name) =>
    `[${done}/${total}] ${DOCUMENT_STATUS[status] ?? status} ${name}`,
  ingestBarFailed: (count) => `，${count} 个失败`,

  // ── hearth config ────────────────────────────────────────────────────────────────────────────
  configDescription: "输出生效的配置，或用 --reference 输出全部配置项和环境变量",
  configReferenceOption: "输出配置参考表（Markdown）",
  configSetInAdmin: (key, value, configured) =>
    `${key} 为 ${value}，在“管理 → 设置”中设置（配置中为 ${configured}）`,
  configDefaultsNotRead: (keys, reason) =>
    `${keys.join("、")} 为默认值：在“管理 → 设置”中保存的值优先于它们，但未能读取（${reason}）`,
  configNote: (note) => `hearth config: ${note}`,
};
