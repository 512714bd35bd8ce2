---@meta lethe
-- Type annotations of Lethe's policy API and Lua plugin API, for editors
-- with the Lua language server (LuaLS). Add this file's folder to
-- "workspace.library" in .luarc.json. The bodies are empty: Lethe itself
-- defines these globals when it runs a policy, a model or a Lua plugin.
--
-- Every global function below is part of the policy API; a test compares
-- this list with the functions that Lethe gives policies, so a function
-- added to one must be added to the other.

-- Values -------------------------------------------------------------------

---A criterion: `{ field, operator, value... }`, such as
---`{ "registered", "older than", 3, "years" }`; a relation with `any` or
---`none` and criteria on the related rows; a counter such as
---`{ "activities", "count", ">=", 3 }`; a Lua function of the row,
---`{ function(row, id) return ... end, "description" }`; or a plugin
---criterion from `criterion("NAME", ...)`.
---@alias LetheCriterion table|LethePluginCriterion

---A group of criteria that must all hold, or a single criterion.
---@alias LetheCriteriaGroup LetheCriterion[]|LetheCriterion

---A cap on deletions: at most `rows` rows and at most `share` (0 to 1) of
---the table.
---@class LetheCap
---@field rows? integer
---@field share? number

---@class LethePolicyHeader
---@field name? string shown in plans and audit records
---@field model? string a bundled model name ("crm", "sakila", "northwind") or a file path
---@field max_per_rule? LetheCap
---@field max_per_run? LetheCap

---@class LetheRule
---@field select LetheSelection the records the rule takes
---@field action LetheAction delete(), delete_all(), keep(), update { } or anonymise { }
---@field reason? string shown in the plan
---@field max? LetheCap this rule's cap

---@class LetheGuardDefinition
---@field entity LetheEntity
---@field reason? string shown for each vetoed record
---@field where? LetheCriteriaGroup vetoes the rows that satisfy these criteria
---@field check? fun(row: table<string, any>): boolean vetoes the rows for which it returns true

---@class LetheAction

---A field action for update { } or a strategy for anonymise { }.
---@class LetheFieldAction

---A consent action for the list part of update { } on persons.
---@class LetheConsentAction

---@class LethePluginCriterion

---The value that clears a field in update { field = null }.
---@class LetheNull

-- Entities and selections ----------------------------------------------------

---An entity of the model, from `entity "person"`.
---@class LetheEntity
---@field name string
local LetheEntity = {}

---Select the rows that satisfy the criteria: each argument is a group of
---criteria that must all hold; the groups are alternatives.
---@param ... LetheCriteriaGroup
---@return LetheSelection
function LetheEntity:where(...) end

---Select every row of the entity, on purpose.
---@return LetheSelection
function LetheEntity:all() end

---A set of records of one entity, combined with + or | (union), * or &
---(intersection), - (difference) and ~ (symmetric difference); #s counts
---its records.
---@class LetheSelection
---@operator add(LetheSelection): LetheSelection
---@operator bor(LetheSelection): LetheSelection
---@operator mul(LetheSelection): LetheSelection
---@operator band(LetheSelection): LetheSelection
---@operator sub(LetheSelection): LetheSelection
---@operator bxor(LetheSelection): LetheSelection
---@operator len: integer
local LetheSelection = {}

---Keep the rows that also satisfy the criteria.
---@param ... LetheCriteriaGroup
---@return LetheSelection
function LetheSelection:where(...) end

---Follow a link ("company") to the parent rows or a relation ("persons")
---to the child rows.
---@param name string
---@return LetheSelection
function LetheSelection:related(name) end

-- Declarations -----------------------------------------------------------------

---Declare the policy's name, model and caps; optional, and first when
---present.
---@param header LethePolicyHeader
function policy(header) end

---An entity of the model.
---@param name string such as "person" or "company"
---@return LetheEntity
function entity(name) end

---A selection saved in the database, by name or as "#ID".
---@param reference string
---@return LetheSelection
function selection(reference) end

---Declare a rule: `rule "name" { select = ..., action = ... }`. For each
---entity, the first rule that selects a record decides what happens to it.
---@param name string unique within the policy
---@return fun(body: LetheRule)
function rule(name) end

---Declare a guard that vetoes deletion:
---`guard "name" { entity = person, reason = "...", where = { ... } }`.
---@param name string
---@return fun(body: LetheGuardDefinition)
function guard(name) end

-- Actions ------------------------------------------------------------------------

---Delete the selected rows, with the cascades the model describes.
---@return LetheAction
function delete() end

---Delete every row of the table, on purpose; apply then also needs the
---option --all-rows ENTITY.
---@return LetheAction
function delete_all() end

---Change nothing; the records are claimed so that later rules leave them
---alone.
---@return LetheAction
function keep() end

---Set fields: values, `null`, field actions, and in the list part consent
---actions.
---@param values table<string|integer, any>
---@return LetheAction
function update(values) end

---Replace personal data: field = "null", "hash", "random", fixed("text"),
---hashed(), random_text(), a plugin strategy's name or strategy(...);
---without a table, every field the model marks personal.
---@param strategies? table<string, string|LetheFieldAction>
---@return LetheAction
function anonymise(strategies) end

---Clears a field in update { }.
---@type LetheNull
null = nil

-- Field actions ---------------------------------------------------------------------

---Set the field to NULL.
---@return LetheFieldAction
function clear() end

---Set a boolean field to true.
---@return LetheFieldAction
function check() end

---Set a boolean field to false.
---@return LetheFieldAction
function uncheck() end

---Flip a boolean field; NULL stays NULL.
---@return LetheFieldAction
function toggle() end

---Replace every occurrence of `search` in a text field.
---@param search string
---@param replacement string
---@param options? { case_sensitive?: boolean, whole_word?: boolean }
---@return LetheFieldAction
function replace(search, replacement, options) end

---Replace matches of a POSIX extended regular expression; \0 to \9 in the
---replacement insert the match and its groups.
---@param pattern string
---@param replacement string
---@param options? { case_sensitive?: boolean }
---@return LetheFieldAction
function regex_replace(pattern, replacement, options) end

---Add a value to a separated list field if it is absent.
---@param value string
---@return LetheFieldAction
function add_value(value) end

---Remove a value from a separated list field.
---@param value string
---@return LetheFieldAction
function remove_value(value) end

---Add `amount` (default 1) to a number; NULL stays NULL.
---@param amount? number
---@return LetheFieldAction
function increment(amount) end

---Anonymisation: a fixed text.
---@param text string
---@return LetheFieldAction
function fixed(text) end

---Anonymisation: the keyed hash of the value, HMAC-SHA-256 under the key
---that apply reads from --key-file.
---@return LetheFieldAction
function hashed() end

---Anonymisation: random text of the same shape.
---@return LetheFieldAction
function random_text() end

---Keep an action written in the policy but switch it off.
---@param action any
---@return LetheFieldAction
function off(action) end

---Give each selected person this consent: the row for the purpose is
---updated, a missing one is inserted.
---@param values { purpose: string, legal_basis: string, source?: string }
---@return LetheConsentAction
function consent(values) end

---Set the legal basis of each selected person's consent for `purpose` to
---WITHDRAWN.
---@param purpose string such as "EMARKETING"
---@return LetheConsentAction
function withdraw_consent(purpose) end

-- Plugins -------------------------------------------------------------------------------

---Load a plugin (NAME.so or NAME.lua in the plugin directories) for this
---policy: its guards and hooks apply to the run. Returns its plain C
---functions by name.
---@param name string
---@param options? table<string, string|number|boolean> overridden by --plugin-option
---@return table<string, function>
function plugin(name, options) end

---A criterion that a loaded plugin provides, with its arguments; use it
---where a criterion table goes.
---@param name string
---@param ... string|number|boolean
---@return LethePluginCriterion
function criterion(name, ...) end

---A plugin's field action for update { }, by name, or a plugin's plain C
---function: the field gets f(value, ...) and keeps its value where f
---returns nil.
---@param action string|function
---@param ... string|number|boolean
---@return LetheFieldAction
function field_action(action, ...) end

---A plugin's anonymisation strategy for anonymise { }, with arguments.
---@param name string
---@param ... string|number|boolean
---@return LetheFieldAction
function strategy(name, ...) end

-- The Lua plugin API -------------------------------------------------------------------

---A set of record ids of one entity (unsigned 32-bit), combined with the
---operators | & - ~ and compared with == <= <.
---@class LetheIdSet
---@operator bor(LetheIdSet): LetheIdSet
---@operator band(LetheIdSet): LetheIdSet
---@operator sub(LetheIdSet): LetheIdSet
---@operator bxor(LetheIdSet): LetheIdSet
---@operator len: integer
local LetheIdSet = {}
---@param id integer
---@return boolean
function LetheIdSet:contains(id) end
---@return integer|nil
function LetheIdSet:min() end
---@return integer|nil
function LetheIdSet:max() end
---@return boolean
function LetheIdSet:is_empty() end
---@return fun(): integer|nil
function LetheIdSet:ids() end
---@return integer[]
function LetheIdSet:to_array() end
---@param n integer
---@param seed? integer
---@return LetheIdSet
function LetheIdSet:sample(n, seed) end
---@return string
function LetheIdSet:entity() end
---Add an id; returns true when it was not in the set.
---@param id integer
---@return boolean
function LetheIdSet:add(id) end
---Remove an id; returns true when it was in the set.
---@param id integer
---@return boolean
function LetheIdSet:remove(id) end
---@return LetheIdSet
function LetheIdSet:copy() end
---An estimate of the heap bytes the set takes as it is stored now.
---@return integer
function LetheIdSet:bytes() end
---Pack the set's spread-out ids until their next use, which unpacks
---them. True when part of the set was packed.
---@return boolean
function LetheIdSet:compact() end
---The ids of universe that are not in this set (universe - set).
---@param universe LetheIdSet
---@return LetheIdSet
function LetheIdSet:complement(universe) end
---A string with the entity name and the ids, with a checksum.
---@return string
function LetheIdSet:serialize() end
---Free the set's memory now; any later use raises.
function LetheIdSet:close() end

---The context of a criterion compiled to SQL.
---@class LetheCriterionCall
---@field entity string
---@field table string
---@field alias string the table's alias in the statement
---@field key string the key column
---@field now integer the run's reference time, Unix seconds
---@field args table the policy's arguments (with n)
local LetheCriterionCall = {}
---Bind a value and return its placeholder, such as "?3".
---@param value string|number|boolean
---@return string
function LetheCriterionCall:bind(value) end

---@class LetheCriterionDefinition
---@field name string
---@field description? string
---@field entity? string the entity it applies to; nil for any
---@field min_args? integer
---@field max_args? integer
---@field sql? fun(call: LetheCriterionCall): string an SQL boolean expression
---@field match? fun(row: table<string, any>, id: integer, ...): boolean a test of one row
---@field fields? string[] for match: the fields the row contains

---@class LetheValueDefinition
---@field name string
---@field description? string
---@field field_types? string[] model field types, default { "text" }
---@field min_args? integer
---@field max_args? integer
---@field value fun(value: any, ...): any the new value; NULL stays NULL without a call

---@class LethePluginGuardDefinition
---@field name string
---@field entity? string the entity it guards; nil for every entity
---@field reason string
---@field check fun(entity: string, ids: LetheIdSet, now: integer): LetheIdSet|nil, string|nil the vetoed ids and, optionally, a reason

---The data a hook receives: names, counts and digests, never personal
---data.
---@class LetheEvent
---@field event string
---@field command string
---@field policy string
---@field policy_digest string
---@field plan_digest? string
---@field now integer
---@field at integer
---@field counts table<string, integer> such as ["person.delete"] = 3
---@field digests table<string, string> the keyed digest of each rule's ids
---@field verified? boolean after an erasure: whether the check found no copies

---The API table that a Lua plugin's init receives.
---@class LethePluginHost
---@field name string the plugin's name
---@field host_version string
local LethePluginHost = {}
---@param definition LetheCriterionDefinition
function LethePluginHost.criterion(definition) end
---@param definition LetheValueDefinition
function LethePluginHost.field_action(definition) end
---@param definition LetheValueDefinition
function LethePluginHost.strategy(definition) end
---@param definition LethePluginGuardDefinition
function LethePluginHost.guard(definition) end
---@param event "before_plan"|"after_plan"|"before_apply"|"after_apply"|"before_erasure"|"after_erasure"
---@param hook fun(event: LetheEvent) an error in a before hook stops the run
function LethePluginHost.hook(event, hook) end
---@param key string
---@return string|nil
function LethePluginHost.option(key) end
---Run one read-only statement (SELECT, WITH or VALUES) on the run's
---database; parameters bind to ?1, ?2, ...
---@param sql string
---@param params? table
---@return table[] rows keyed by column name
function LethePluginHost.query(sql, params) end
---@param entity string
---@param ids? integer[]
---@return LetheIdSet
function LethePluginHost.ids(entity, ids) end
---@param message string
function LethePluginHost.log(message) end

---The table that a Lua plugin file returns.
---@class LethePluginModule
---@field version string
---@field description? string
---@field init fun(lethe: LethePluginHost)
