<?php
/**
 * First start of the local data plane: install the site (once) with the generated test
 * admin, whose password arrives on stdin, and publish sample news so load tests read real
 * pages. Run by the php CLI with the task definition's environment, like the application.
 * Prints one JSON line: {"installed": bool, "posts": n, "admin": "..."}.
 */
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url(getenv('WP_HOME') ?: 'https://localhost', PHP_URL_HOST);
$_SERVER['HTTPS'] = 'on';
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

[$script, $admin, $email, $title, $posts] = $argv;
$installed = false;
if (!is_blog_installed()) {
    $password = trim(stream_get_contents(STDIN));
    wp_install($title, $admin, $email, true, '', $password);
    update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
    $installed = true;
}
$have = (int) wp_count_posts('post')->publish;
for ($i = $have + 1; $i <= (int) $posts; $i++) {
    wp_insert_post([
        'post_title' => "Breaking news $i",
        'post_content' => str_repeat("<p>Story $i: what happened, who said what, and what comes next.</p>\n", 12),
        'post_status' => 'publish',
        'post_author' => 1,
    ]);
}
flush_rewrite_rules(false);
echo json_encode(['installed' => $installed, 'posts' => (int) wp_count_posts('post')->publish, 'admin' => $admin]), "\n";
