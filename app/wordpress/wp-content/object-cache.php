<?php
/**
 * Redis object cache drop-in (wp-content/object-cache.php) of the image and the local data plane.
 *
 * Reads the constants of the Redis Object Cache plugin (WP_REDIS_HOST, WP_REDIS_PORT,
 * WP_REDIS_SCHEME, WP_REDIS_PASSWORD, WP_REDIS_PREFIX), which wp-config.php defines from the
 * task definition's environment. Uses the phpredis extension (the image builds it); with
 * WP_REDIS_SCHEME "tls" it verifies the server certificate. If Redis cannot be reached the
 * request still works from a per-request cache, and the error is logged once.
 * Connections are persistent per PHP worker (phpredis pconnect), so a request pays no TLS
 * handshake; a multi-key read is one MGET.
 */

class WP_Object_Cache {
    public $cache = [];
    public $cache_hits = 0;
    public $cache_misses = 0;
    private $redis = null;
    private $global_groups = [];
    private $local_groups = [];
    private $blog_prefix = '';
    private $prefix = '';

    public function __construct() {
        $this->prefix = defined('WP_REDIS_PREFIX') ? WP_REDIS_PREFIX : (defined('DB_NAME') ? DB_NAME : 'wp') . ':';
        $this->blog_prefix = (function_exists('is_multisite') && is_multisite()) ? get_current_blog_id() . ':' : '';
        if (!defined('WP_REDIS_HOST') || !WP_REDIS_HOST || !class_exists('Redis')) {
            return;
        }
        try {
            $redis = new Redis();
            $scheme = defined('WP_REDIS_SCHEME') ? WP_REDIS_SCHEME : 'tcp';
            $host = $scheme === 'tls' ? 'tls://' . WP_REDIS_HOST : WP_REDIS_HOST;
            $context = $scheme === 'tls' ? ['stream' => ['verify_peer' => true, 'verify_peer_name' => true]] : [];
            $port = defined('WP_REDIS_PORT') ? (int) WP_REDIS_PORT : 6379;
            $redis->pconnect($host, $port, 1.0, 'surgepress-object-cache', 0, 1.0, $context);
            if (defined('WP_REDIS_PASSWORD') && WP_REDIS_PASSWORD !== '' && WP_REDIS_PASSWORD !== false) {
                $redis->auth(WP_REDIS_PASSWORD);
            }
            $redis->setOption(Redis::OPT_SERIALIZER, Redis::SERIALIZER_PHP);
            $this->redis = $redis;
        } catch (Exception $e) {
            error_log('object-cache: Redis unavailable: ' . $e->getMessage());
            $this->redis = null;
        }
    }

    private function key($key, $group) {
        $group = $group === '' ? 'default' : $group;
        $scope = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return $this->prefix . $scope . $group . ':' . $key;
    }

    private function persistent($group) {
        return $this->redis !== null && !isset($this->local_groups[$group === '' ? 'default' : $group]);
    }

    private function call($method, ...$args) {
        try {
            return $this->redis->$method(...$args);
        } catch (Exception $e) {
            error_log('object-cache: Redis ' . $method . ' failed: ' . $e->getMessage());
            $this->redis = null;
            return false;
        }
    }

    public function get($key, $group = 'default', $force = false, &$found = null) {
        $id = $this->key($key, $group);
        if (!$force && array_key_exists($id, $this->cache)) {
            $found = true;
            $this->cache_hits++;
            $value = $this->cache[$id];
            return is_object($value) ? clone $value : $value;
        }
        if ($this->persistent($group)) {
            $value = $this->call('get', $id);
            if ($value !== false) {  // a stored false reads as a miss, as in the Redis Object Cache plugin
                $found = true;
                $this->cache_hits++;
                $this->cache[$id] = $value;
                return is_object($value) ? clone $value : $value;
            }
        }
        $found = false;
        $this->cache_misses++;
        return false;
    }

    public function get_multiple($keys, $group = 'default', $force = false) {
        $values = [];
        $fetch = [];
        foreach ($keys as $key) {
            $id = $this->key($key, $group);
            if (!$force && array_key_exists($id, $this->cache)) {
                $values[$key] = $this->cache[$id];
                $this->cache_hits++;
            } else {
                $values[$key] = false;
                $fetch[$key] = $id;
            }
        }
        if ($fetch && $this->persistent($group)) {
            $answers = $this->call('mget', array_values($fetch));
            foreach (array_keys($fetch) as $i => $key) {
                $value = is_array($answers) ? ($answers[$i] ?? false) : false;
                if ($value !== false) {
                    $this->cache[$fetch[$key]] = $value;
                    $values[$key] = $value;
                    $this->cache_hits++;
                } else {
                    $this->cache_misses++;
                }
            }
        } else {
            $this->cache_misses += count($fetch);
        }
        return $values;
    }

    public function set($key, $data, $group = 'default', $expire = 0) {
        $id = $this->key($key, $group);
        $this->cache[$id] = is_object($data) ? clone $data : $data;
        if ($this->persistent($group)) {
            return (bool) ($expire > 0 ? $this->call('setex', $id, (int) $expire, $data) : $this->call('set', $id, $data));
        }
        return true;
    }

    public function add($key, $data, $group = 'default', $expire = 0) {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        $found = false;
        $this->get($key, $group, false, $found);
        return $found ? false : $this->set($key, $data, $group, $expire);
    }

    public function replace($key, $data, $group = 'default', $expire = 0) {
        $found = false;
        $this->get($key, $group, false, $found);
        return $found ? $this->set($key, $data, $group, $expire) : false;
    }

    public function delete($key, $group = 'default') {
        $id = $this->key($key, $group);
        unset($this->cache[$id]);
        if ($this->persistent($group)) {
            return (bool) $this->call('del', $id);
        }
        return true;
    }

    public function incr($key, $offset = 1, $group = 'default') {
        $found = false;
        $value = $this->get($key, $group, true, $found);
        if (!$found) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + (int) $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    public function decr($key, $offset = 1, $group = 'default') {
        return $this->incr($key, -(int) $offset, $group);
    }

    public function flush() {
        $this->cache = [];
        if ($this->redis === null) {
            return true;
        }
        try {
            $iterator = null;  // SCAN updates it by reference until it is back to 0
            do {
                $keys = $this->redis->scan($iterator, $this->prefix . '*', 500);
                if ($keys) {
                    $this->redis->del($keys);
                }
            } while ($iterator);
        } catch (Exception $e) {
            error_log('object-cache: Redis flush failed: ' . $e->getMessage());
            $this->redis = null;
        }
        return true;
    }

    public function flush_runtime() {
        $this->cache = [];
        return true;
    }

    public function add_global_groups($groups) {
        foreach ((array) $groups as $group) {
            $this->global_groups[$group] = true;
        }
    }

    public function add_non_persistent_groups($groups) {
        foreach ((array) $groups as $group) {
            $this->local_groups[$group] = true;
        }
    }

    public function switch_to_blog($blog_id) {
        $this->blog_prefix = (function_exists('is_multisite') && is_multisite()) ? ((int) $blog_id) . ':' : '';
    }

    public function close() {
        return true;  // the connection is the worker's (pconnect): it outlives the request
    }
}

function wp_cache_init() { $GLOBALS['wp_object_cache'] = new WP_Object_Cache(); }
function wp_cache_get($key, $group = '', $force = false, &$found = null) { global $wp_object_cache; return $wp_object_cache->get($key, $group, $force, $found); }
function wp_cache_get_multiple($keys, $group = '', $force = false) { global $wp_object_cache; return $wp_object_cache->get_multiple($keys, $group, $force); }
function wp_cache_set($key, $data, $group = '', $expire = 0) { global $wp_object_cache; return $wp_object_cache->set($key, $data, $group, (int) $expire); }
function wp_cache_add($key, $data, $group = '', $expire = 0) { global $wp_object_cache; return $wp_object_cache->add($key, $data, $group, (int) $expire); }
function wp_cache_replace($key, $data, $group = '', $expire = 0) { global $wp_object_cache; return $wp_object_cache->replace($key, $data, $group, (int) $expire); }
function wp_cache_delete($key, $group = '') { global $wp_object_cache; return $wp_object_cache->delete($key, $group); }
function wp_cache_incr($key, $offset = 1, $group = '') { global $wp_object_cache; return $wp_object_cache->incr($key, $offset, $group); }
function wp_cache_decr($key, $offset = 1, $group = '') { global $wp_object_cache; return $wp_object_cache->decr($key, $offset, $group); }
function wp_cache_flush() { global $wp_object_cache; return $wp_object_cache->flush(); }
function wp_cache_flush_runtime() { global $wp_object_cache; return $wp_object_cache->flush_runtime(); }
function wp_cache_close() { global $wp_object_cache; return $wp_object_cache->close(); }
function wp_cache_add_global_groups($groups) { global $wp_object_cache; $wp_object_cache->add_global_groups($groups); }
function wp_cache_add_non_persistent_groups($groups) { global $wp_object_cache; $wp_object_cache->add_non_persistent_groups($groups); }
function wp_cache_switch_to_blog($blog_id) { global $wp_object_cache; $wp_object_cache->switch_to_blog($blog_id); }
function wp_cache_reset() { global $wp_object_cache; $wp_object_cache->flush_runtime(); }
function wp_cache_supports($feature) { return in_array($feature, ['get_multiple', 'flush_runtime'], true); }
