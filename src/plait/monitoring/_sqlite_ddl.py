"""Generated from plait.monitoring._schema by ``python -m
plait.monitoring._schema``: do not edit (a test compares the two)."""

# ruff: noqa: E501

SCHEMA_VERSION = 1

COLUMNS: dict[str, tuple[str, ...]] = {
    'block': (
        'run_id',
        'executor_label',
        'block_id',
        'job_id',
        'timestamp',
        'status',
    ),
    'node': (
        'id',
        'run_id',
        'hostname',
        'uid',
        'block_id',
        'cpu_count',
        'total_memory',
        'active',
        'worker_count',
        'python_v',
        'timestamp',
        'last_heartbeat',
    ),
    'plait_failure': (
        'run_id',
        'task_id',
        'try_id',
        'timestamp',
        'exception_type',
        'message',
        'traceback',
        'root_cause_task',
    ),
    'plait_meta': (
        'key',
        'value',
    ),
    'plait_progress': (
        'run_id',
        'task_func_name',
        'task_status_name',
        'count',
    ),
    'plait_task': (
        'run_id',
        'task_id',
        'task_args',
        'task_walltime',
    ),
    'task': (
        'task_id',
        'run_id',
        'task_depends',
        'task_func_name',
        'task_memoize',
        'task_hashsum',
        'task_inputs',
        'task_outputs',
        'task_stdin',
        'task_stdout',
        'task_stderr',
        'task_time_invoked',
        'task_time_returned',
        'task_fail_count',
        'task_fail_cost',
    ),
    'try': (
        'try_id',
        'task_id',
        'run_id',
        'block_id',
        'hostname',
        'task_executor',
        'task_try_time_launched',
        'task_try_time_running',
        'task_try_time_returned',
        'task_fail_history',
        'task_joins',
    ),
    'workflow': (
        'run_id',
        'workflow_name',
        'workflow_version',
        'time_began',
        'time_completed',
        'host',
        'user',
        'rundir',
        'tasks_failed_count',
        'tasks_completed_count',
    ),
    'plait_workflow': (
        'run_id',
        'script',
        'argv',
        'cwd',
        'retry_of',
        'control',
        'pid',
        'python_version',
        'plait_version',
        'executors',
        'outcome',
        'last_update',
        'records_dropped',
    ),
    'resource': (
        'try_id',
        'task_id',
        'run_id',
        'timestamp',
        'resource_monitoring_interval',
        'psutil_process_pid',
        'psutil_process_memory_percent',
        'psutil_process_children_count',
        'psutil_process_time_user',
        'psutil_process_time_system',
        'psutil_process_memory_virtual',
        'psutil_process_memory_resident',
        'psutil_process_disk_read',
        'psutil_process_disk_write',
        'psutil_process_status',
        'psutil_cpu_num',
        'psutil_process_num_ctx_switches_voluntary',
        'psutil_process_num_ctx_switches_involuntary',
    ),
    'status': (
        'task_id',
        'task_status_name',
        'timestamp',
        'run_id',
        'try_id',
    ),
}

DDL: tuple[str, ...] = (
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS block (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\texecutor_label TEXT NOT NULL, \n'
        '\tblock_id TEXT NOT NULL, \n'
        '\tjob_id TEXT, \n'
        '\ttimestamp DATETIME NOT NULL, \n'
        '\tstatus TEXT NOT NULL, \n'
        '\tPRIMARY KEY (run_id, block_id, executor_label, timestamp)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS node (\n'
        '\tid INTEGER NOT NULL, \n'
        '\trun_id TEXT NOT NULL, \n'
        '\thostname TEXT NOT NULL, \n'
        '\tuid TEXT NOT NULL, \n'
        '\tblock_id TEXT NOT NULL, \n'
        '\tcpu_count INTEGER NOT NULL, \n'
        '\ttotal_memory BIGINT NOT NULL, \n'
        '\tactive BOOLEAN NOT NULL, \n'
        '\tworker_count INTEGER NOT NULL, \n'
        '\tpython_v TEXT NOT NULL, \n'
        '\ttimestamp DATETIME NOT NULL, \n'
        '\tlast_heartbeat DATETIME NOT NULL, \n'
        '\tPRIMARY KEY (id)\n'
        ')\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS plait_failure (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\ttry_id INTEGER NOT NULL, \n'
        '\ttimestamp DATETIME NOT NULL, \n'
        '\texception_type TEXT, \n'
        '\tmessage TEXT, \n'
        '\ttraceback TEXT, \n'
        '\troot_cause_task INTEGER, \n'
        '\tPRIMARY KEY (run_id, task_id, try_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS plait_meta (\n'
        '\t"key" TEXT NOT NULL, \n'
        '\tvalue TEXT NOT NULL, \n'
        '\tPRIMARY KEY ("key")\n'
        ')\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS plait_progress (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttask_func_name TEXT NOT NULL, \n'
        '\ttask_status_name TEXT NOT NULL, \n'
        '\tcount INTEGER NOT NULL, \n'
        '\tPRIMARY KEY (run_id, task_func_name, task_status_name)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS plait_task (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\ttask_args TEXT, \n'
        '\ttask_walltime FLOAT, \n'
        '\tPRIMARY KEY (run_id, task_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS task (\n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttask_depends TEXT, \n'
        '\ttask_func_name TEXT NOT NULL, \n'
        '\ttask_memoize TEXT NOT NULL, \n'
        '\ttask_hashsum TEXT, \n'
        '\ttask_inputs TEXT, \n'
        '\ttask_outputs TEXT, \n'
        '\ttask_stdin TEXT, \n'
        '\ttask_stdout TEXT, \n'
        '\ttask_stderr TEXT, \n'
        '\ttask_time_invoked DATETIME, \n'
        '\ttask_time_returned DATETIME, \n'
        '\ttask_fail_count INTEGER NOT NULL, \n'
        '\ttask_fail_cost FLOAT NOT NULL, \n'
        '\tPRIMARY KEY (run_id, task_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS try (\n'
        '\ttry_id INTEGER NOT NULL, \n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\trun_id TEXT NOT NULL, \n'
        '\tblock_id TEXT, \n'
        '\thostname TEXT, \n'
        '\ttask_executor TEXT NOT NULL, \n'
        '\ttask_try_time_launched DATETIME, \n'
        '\ttask_try_time_running DATETIME, \n'
        '\ttask_try_time_returned DATETIME, \n'
        '\ttask_fail_history TEXT, \n'
        '\ttask_joins TEXT, \n'
        '\tPRIMARY KEY (run_id, task_id, try_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS workflow (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\tworkflow_name TEXT, \n'
        '\tworkflow_version TEXT, \n'
        '\ttime_began DATETIME NOT NULL, \n'
        '\ttime_completed DATETIME, \n'
        '\thost TEXT NOT NULL, \n'
        '\tuser TEXT NOT NULL, \n'
        '\trundir TEXT NOT NULL, \n'
        '\ttasks_failed_count INTEGER NOT NULL, \n'
        '\ttasks_completed_count INTEGER NOT NULL, \n'
        '\tPRIMARY KEY (run_id)\n'
        ')\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS plait_workflow (\n'
        '\trun_id TEXT NOT NULL, \n'
        '\tscript TEXT, \n'
        '\targv TEXT, \n'
        '\tcwd TEXT, \n'
        '\tretry_of TEXT, \n'
        '\tcontrol TEXT, \n'
        '\tpid INTEGER, \n'
        '\tpython_version TEXT, \n'
        '\tplait_version TEXT, \n'
        '\texecutors TEXT, \n'
        '\toutcome TEXT NOT NULL, \n'
        '\tlast_update DATETIME, \n'
        '\trecords_dropped INTEGER NOT NULL, \n'
        '\tPRIMARY KEY (run_id), \n'
        '\tFOREIGN KEY(run_id) REFERENCES workflow (run_id)\n'
        ')\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS resource (\n'
        '\ttry_id INTEGER NOT NULL, \n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttimestamp DATETIME NOT NULL, \n'
        '\tresource_monitoring_interval FLOAT, \n'
        '\tpsutil_process_pid INTEGER, \n'
        '\tpsutil_process_memory_percent FLOAT, \n'
        '\tpsutil_process_children_count FLOAT, \n'
        '\tpsutil_process_time_user FLOAT, \n'
        '\tpsutil_process_time_system FLOAT, \n'
        '\tpsutil_process_memory_virtual FLOAT, \n'
        '\tpsutil_process_memory_resident FLOAT, \n'
        '\tpsutil_process_disk_read FLOAT, \n'
        '\tpsutil_process_disk_write FLOAT, \n'
        '\tpsutil_process_status TEXT, \n'
        '\tpsutil_cpu_num TEXT, \n'
        '\tpsutil_process_num_ctx_switches_voluntary FLOAT, \n'
        '\tpsutil_process_num_ctx_switches_involuntary FLOAT, \n'
        '\tPRIMARY KEY (run_id, task_id, try_id, timestamp), \n'
        '\tFOREIGN KEY(run_id) REFERENCES workflow (run_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        '\n'
        'CREATE TABLE IF NOT EXISTS status (\n'
        '\ttask_id INTEGER NOT NULL, \n'
        '\ttask_status_name TEXT NOT NULL, \n'
        '\ttimestamp DATETIME NOT NULL, \n'
        '\trun_id TEXT NOT NULL, \n'
        '\ttry_id INTEGER NOT NULL, \n'
        '\tPRIMARY KEY (run_id, task_id, task_status_name, timestamp), \n'
        '\tFOREIGN KEY(run_id) REFERENCES workflow (run_id)\n'
        ')\n'
        ' WITHOUT ROWID\n'
        '\n'
    ),
    (
        "CREATE INDEX IF NOT EXISTS ix_status_failed ON status (run_id, task_id) WHERE task_status_name = 'failed'"
    ),
    (
        "CREATE INDEX IF NOT EXISTS ix_status_dep_fail ON status (run_id, task_id) WHERE task_status_name = 'dep_fail'"
    ),
    (
        "CREATE INDEX IF NOT EXISTS ix_status_cancelled ON status (run_id, task_id) WHERE task_status_name = 'cancelled'"
    ),
    (
        'CREATE INDEX IF NOT EXISTS ix_task_hashsum ON task (task_hashsum) WHERE task_hashsum IS NOT NULL'
    ),
    (
        'CREATE INDEX IF NOT EXISTS ix_node_run ON node (run_id)'
    ),
)
