<?php
/**
 * Plugin Name: surgepress platform
 * Description: What the platform needs of WordPress once its plugin API is up; the image and the local data plane load it alike (app/wordpress/).
 */

// The media bucket has ACLs disabled (Object Ownership: BucketOwnerEnforced) and refuses
// S3-Uploads' default public-read: with S3_UPLOADS_OBJECT_ACL "none" an upload carries no ACL
// at all, and the bucket policy (CloudFront's origin access control) decides who reads it.
add_filter('s3_uploads_putObject_params', static function (array $params): array {
    if (defined('S3_UPLOADS_OBJECT_ACL') && S3_UPLOADS_OBJECT_ACL === 'none') {
        unset($params['ACL']);
    }
    return $params;
});

// S3-Uploads (installed in the image at build time, app/Dockerfile) is loaded here, not
// activated in the database: a must-use plugin cannot be switched off, so uploads can never
// fall back to the task's disk. The local data plane has no copy (`dataplane status` says so).
$s3_uploads = WP_CONTENT_DIR . '/plugins/s3-uploads/s3-uploads.php';
if (is_readable($s3_uploads)) {
    require_once $s3_uploads;
}
