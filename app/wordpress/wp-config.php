<?php
/**
 * wp-config.php of the image (app/Dockerfile) and of the local data plane alike: the
 * environment contract of the official WordPress image (docker-library/wordpress), so the
 * task definition's `environment` and `secrets` configure WordPress the same way on ECS and
 * locally, then what the platform needs besides. No value is written into this file.
 */
if (!function_exists('getenv_docker')) {
    function getenv_docker($name, $default) {
        if ($file = getenv($name . '_FILE')) {
            return rtrim(file_get_contents($file), "\r\n");
        }
        $value = getenv($name);
        return $value === false ? $default : $value;
    }
}

// A secret the task definition did not give is an error, never a default the world knows
// (the official image's wp-config-docker.php falls back to placeholders).
if (!function_exists('getenv_required')) {
    function getenv_required($name) {
        $value = getenv_docker($name, '');
        if ($value === '') {
            error_log("wp-config.php: {$name} is not set; the task definition must give it");
            http_response_code(503);
            exit("Service unavailable: the site is misconfigured.\n");
        }
        return $value;
    }
}

define('DB_NAME', getenv_required('WORDPRESS_DB_NAME'));
define('DB_USER', getenv_required('WORDPRESS_DB_USER'));
define('DB_PASSWORD', getenv_required('WORDPRESS_DB_PASSWORD'));
define('DB_HOST', getenv_required('WORDPRESS_DB_HOST'));
define('DB_CHARSET', getenv_docker('WORDPRESS_DB_CHARSET', 'utf8mb4'));
define('DB_COLLATE', getenv_docker('WORDPRESS_DB_COLLATE', ''));

define('AUTH_KEY', getenv_required('WORDPRESS_AUTH_KEY'));
define('SECURE_AUTH_KEY', getenv_required('WORDPRESS_SECURE_AUTH_KEY'));
define('LOGGED_IN_KEY', getenv_required('WORDPRESS_LOGGED_IN_KEY'));
define('NONCE_KEY', getenv_required('WORDPRESS_NONCE_KEY'));
define('AUTH_SALT', getenv_required('WORDPRESS_AUTH_SALT'));
define('SECURE_AUTH_SALT', getenv_required('WORDPRESS_SECURE_AUTH_SALT'));
define('LOGGED_IN_SALT', getenv_required('WORDPRESS_LOGGED_IN_SALT'));
define('NONCE_SALT', getenv_required('WORDPRESS_NONCE_SALT'));

$table_prefix = getenv_docker('WORDPRESS_TABLE_PREFIX', 'wp_');
define('WP_DEBUG', !!getenv_docker('WORDPRESS_DEBUG', ''));

// TLS ends at the load balancer, which says so in X-Forwarded-Proto.
if (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https') {
    $_SERVER['HTTPS'] = 'on';
}

// --- what the platform adds (the task definition's environment) --------------------------
// Aurora requires TLS (require_secure_transport).
define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL);
define('WP_HOME', getenv_docker('WP_HOME', ''));
define('WP_SITEURL', getenv_docker('WP_SITEURL', ''));
// The Redis object cache (wp-content/object-cache.php): ElastiCache with TLS and AUTH.
define('WP_REDIS_HOST', getenv_docker('WP_REDIS_HOST', ''));
define('WP_REDIS_PORT', (int) getenv_docker('WP_REDIS_PORT', '6379'));
define('WP_REDIS_SCHEME', getenv_docker('WP_REDIS_SCHEME', 'tls'));
define('WP_REDIS_PASSWORD', getenv_docker('WP_REDIS_PASSWORD', ''));
// S3-Uploads (wp-content/plugins/s3-uploads, installed in the image): media go to the bucket
// with the task role's credentials, never to the task's disk.
define('S3_UPLOADS_BUCKET', getenv_docker('S3_UPLOADS_BUCKET', ''));
define('S3_UPLOADS_BUCKET_URL', getenv_docker('S3_UPLOADS_BUCKET_URL', ''));
define('S3_UPLOADS_REGION', getenv_docker('S3_UPLOADS_REGION', ''));
define('S3_UPLOADS_USE_INSTANCE_PROFILE', true);
define('S3_UPLOADS_OBJECT_ACL', getenv_docker('S3_UPLOADS_OBJECT_ACL', 'none'));
// The image serves no file it could write: no plugin or theme edits, installs or updates.
define('DISALLOW_FILE_MODS', true);
define('AUTOMATIC_UPDATER_DISABLED', true);

// Which region answered (what the drill's prober records) and which build of app/: operators'
// curl shows both, and the harness checks the build against the task definition's image.
if (!headers_sent()) {
    header('X-Surgepress-Region: ' . getenv_docker('SURGEPRESS_REGION', 'unknown'));
    // The tag's source digest only: no WordPress or PHP version is published.
    header('X-Surgepress-Build: ' . preg_replace('/^.*-/', '', getenv_docker('SURGEPRESS_IMAGE_TAG', 'unknown')));
}

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
