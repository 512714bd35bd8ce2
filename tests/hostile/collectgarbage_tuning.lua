-- collectgarbage options that tune the collector.
-- expect: collectgarbage\("generational"\) is not available to scripts

collectgarbage("generational")
