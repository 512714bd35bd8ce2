-- Secret keys for keyed hashes: the audit trail's id digests and the
-- erasure ledger. A key lives in a file of its own, outside the database
-- and outside the ledger, named by --key-file or the LETHE_KEY_FILE
-- environment variable. Its bytes are never printed or logged.

local native = require "lethe.native"
local util = require "lethe.util"

local keys = {}

-- A key shorter than this is refused: a keyed hash is only as strong as
-- its key.
keys.minimum_bytes = 16

-- Read the key named by `path` (or LETHE_KEY_FILE when path is nil).
-- Returns the key bytes, or nil when neither names a file. Raises when
-- the file cannot be read, is too short, or is the database itself.
function keys.read(path, db_path)
  path = path or os.getenv("LETHE_KEY_FILE")
  if not path or path == "" then return nil end
  if db_path and path == db_path then
    util.fail("the key file must not be the database %s", db_path)
  end
  local key, message = native.read_file(path)
  if not key then util.fail("cannot read the key file: %s", message) end
  key = key:gsub("%s+$", "")
  if #key < keys.minimum_bytes then
    util.fail("the key file %s holds %d bytes; a key needs at least %d "
      .. "(for example 32 random bytes in hex)", path, #key,
      keys.minimum_bytes)
  end
  return key
end

-- Digest of an id set: HMAC-SHA-256 under `key` of the set's SHA-256
-- when a key is given ("hmac:" prefix), else the plain SHA-256
-- ("sha256:" prefix).
function keys.set_digest(set, key)
  local plain = native.set_digest(set)
  if key then return "hmac:" .. native.hmac_sha256(key, plain) end
  return "sha256:" .. plain
end

return keys
