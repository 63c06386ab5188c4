use std::process::Command;

use crate::common::TestDb;

fn roster(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run roster")
}

#[test]
fn the_operator_creates_a_user_and_an_organization_without_a_browser() {
    let db = TestDb::new();
    let out = roster(&db.url, &["create-user", "--name", "Olivia", "--email", "olivia@example.com"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created account olivia@example.com (verified)."));
    assert!(stdout.contains("Password: "));

    let out = roster(&db.url, &["create-org", "--name", "Acme Corp", "--owner", "OLIVIA@example.com", "--seats", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created organization Acme Corp at /orgs/acme-corp"));

    let out = roster(&db.url, &["create-user", "--name", "Olivia", "--email", "olivia@example.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists; nothing was changed"));
}

#[test]
fn operator_commands_refuse_bad_input_with_a_sentence() {
    let db = TestDb::new();
    let cases: &[(&[&str], &str)] = &[
        (&["create-user", "--name", "Olivia", "--email", "nope"], "--email: An email address needs one @"),
        (&["create-user", "--name", " ", "--email", "o@example.com"], "--name: Enter a name."),
        (
            &["create-org", "--name", "Acme", "--owner", "ghost@example.com"],
            "No account has the address ghost@example.com",
        ),
        (&["create-org", "--name", "Acme", "--owner", "o@example.com", "--seats", "0"], "--seats must be at least 1"),
        (&["sign-out-everywhere", "--email", "ghost@example.com"], "no account has the address ghost@example.com"),
    ];
    for (args, expected) in cases {
        let out = roster(&db.url, args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_unreachable_database_is_explained_in_one_sentence_without_the_password() {
    let out = roster("postgres://roster:s3cret@127.0.0.1:1/roster", &["migrate"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Cannot reach PostgreSQL at postgres://roster:***@127.0.0.1:1/roster"), "{stderr}");
    assert!(stderr.contains("set DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("s3cret") && !stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn help_lists_the_configuration() {
    let out = roster("postgres://unused", &["--help"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "DATABASE_URL",
        "ROSTER_BIND",
        "ROSTER_BASE_URL",
        "ROSTER_SESSION_KEY",
        "ROSTER_SMTP_URL",
        "ROSTER_MAIL_FROM",
        "ROSTER_INVITATION_TTL",
        "ROSTER_SUPPORT_URL",
    ] {
        assert!(stdout.contains(name), "{name} missing from --help");
    }
}

#[test]
fn the_operator_sets_an_organizations_seat_limit_and_bad_input_changes_nothing() {
    let db = TestDb::new();
    roster(&db.url, &["create-user", "--name", "Olivia", "--email", "olivia@example.com"]);
    roster(&db.url, &["create-org", "--name", "Acme", "--owner", "olivia@example.com", "--seats", "5"]);
    for (args, expected) in [
        (vec!["set-seats", "--org", "acme", "0"], "seats: The seat limit must be at least 1"),
        (vec!["set-seats", "--org", "acme", "-4"], "seats: The seat limit must be at least 1"),
        (vec!["set-seats", "--org", "acme", "many"], "seats: Enter the seat limit as a whole number"),
        (vec!["set-seats", "--org", "acme", "5000000"], "seats: The seat limit can be at most 1,000,000."),
        (vec!["set-seats", "--org", "globex", "10"], "no organization is at /orgs/globex"),
        (vec!["set-seats", "--org", "Not A Slug", "10"], "is not an organization's URL name"),
    ] {
        let out = roster(&db.url, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = roster(&db.url, &["set-seats", "--org", "acme", "25"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("The seat limit of Acme is now 25. 1 / 25 seats used; 24 free.")
    );
    let mut conn = db.conn();
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor_label: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        change: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT actor_label, (before->>'seat_limit') || ' -> ' || (after->>'seat_limit') AS change \
           FROM audit_events WHERE action = 'seats.limit_changed'",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(rows.len(), 1, "refusals changed nothing");
    assert_eq!((rows[0].actor_label.as_str(), rows[0].change.as_str()), ("Operator (roster set-seats)", "5 -> 25"));
}

#[test]
fn version_names_the_release_and_the_newest_migration_it_applies() {
    let out = Command::new(env!("CARGO_BIN_EXE_roster")).arg("--version").output().expect("run roster");
    assert!(out.status.success());
    let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .max()
        .unwrap();
    let version: String = newest.split('_').next().unwrap().chars().filter(char::is_ascii_digit).collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("roster {} (migration {version})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_operations_settings_are_refused_with_a_sentence_before_anything_starts() {
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("ROSTER_LOG_FORMAT", "xml", &["migrate"], "ROSTER_LOG_FORMAT must be human or json, not \"xml\""),
        ("ROSTER_PRIVATE_POSTGRES", "sometimes", &["migrate"], "ROSTER_PRIVATE_POSTGRES must be auto, always or never"),
        (
            "ROSTER_METRICS_TOKEN",
            "short",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_METRICS_TOKEN must be at least 16 characters",
        ),
        (
            "ROSTER_SHUTDOWN_GRACE",
            "soon",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_SHUTDOWN_GRACE must be a duration",
        ),
        (
            "ROSTER_SESSION_IDLE_TIMEOUT",
            "0m",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_SESSION_IDLE_TIMEOUT must be a duration like 24h, 8h or 30m",
        ),
        (
            "ROSTER_READ_DATABASE_URL",
            "replica.internal:5432",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_READ_DATABASE_URL must be a PostgreSQL URL like postgres://user@replica:5432/roster",
        ),
        (
            "ROSTER_READ_MAX_LAG",
            "a while",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_READ_MAX_LAG must be a duration like 5s, 30s or 2m",
        ),
        (
            "ROSTER_KEEP_ALIVE",
            "forever",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_KEEP_ALIVE must be a duration like 75s or 2m",
        ),
        (
            "ROSTER_PAGE_CACHE_MB",
            "plenty",
            &["serve", "--bind", "127.0.0.1:0"],
            "ROSTER_PAGE_CACHE_MB must be a whole number of megabytes from 0 (keep no pages) to 4096",
        ),
    ];
    for (name, value, args, says) in cases {
        let dir = std::env::temp_dir().join(format!("roster-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(*args)
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .env(name, value)
            .env("RUST_LOG", "error")
            .output()
            .expect("run roster");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={value} was accepted");
        assert!(stderr.contains(says), "{name}={value}: {stderr}");
        // Refused before any database work: no private PostgreSQL was made.
        assert!(!dir.join(".roster").exists(), "{name}={value} started something");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn generate_fills_an_organization_within_its_seat_limit() {
    let db = TestDb::new();
    roster(&db.url, &["create-user", "--name", "Olivia", "--email", "olivia@example.com"]);
    roster(&db.url, &["create-org", "--name", "Acme", "--owner", "olivia@example.com", "--seats", "40"]);

    let out = roster(&db.url, &["generate", "--org", "acme", "--members", "30", "--invitations", "20"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Acme has 1 of 40 seats in use and this needs 50 more (39 available)"), "{stderr}");
    assert!(stderr.contains("roster set-seats --org acme 51"), "{stderr}");
    for (args, expected) in [
        (vec!["generate", "--org", "globex", "--members", "1"], "no organization is at /orgs/globex"),
        (vec!["generate", "--org", "acme"], "nothing to generate"),
        (vec!["generate", "--org", "acme", "--members", "many"], "invalid value 'many'"),
    ] {
        let out = roster(&db.url, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(db.count("SELECT count(*) FROM memberships"), 1, "refusals changed nothing");
    assert_eq!(db.count("SELECT count(*) FROM invitations"), 0, "refusals changed nothing");

    roster(&db.url, &["set-seats", "--org", "acme", "60"]);
    // A load that at least doubles the tables sets their indexes and foreign keys
    // aside and makes them again: afterwards every one is there, as it was, and valid.
    let schema = schema_of(&db);
    assert!(schema.iter().any(|line| line.starts_with("memberships_search_idx: CREATE INDEX")), "{schema:?}");
    assert!(schema.iter().any(|line| line.starts_with("memberships.memberships_user_id_fkey: FOREIGN KEY")));
    let index = "SELECT 'memberships_search_idx'::regclass::oid::bigint AS count";
    let search_index = db.count(index);
    let args =
        ["generate", "--org", "acme", "--members", "30", "--invitations", "20", "--teams", "3", "--projects", "2"];
    let out = roster(&db.url, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("30 members, 20 pending invitations, 3 teams"), "{stdout}");
    assert_eq!(schema_of(&db), schema, "the indexes and keys are as they were");
    let made = db.count(index);
    assert_ne!(made, search_index, "the search index was made again");

    assert_eq!(db.count("SELECT count(*) FROM memberships WHERE member_name <> '' AND member_verified"), 31);
    // Each member's copy of their account (written with it, not looked up) is the account's.
    let copied = "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.member_name = u.name AND m.member_email = u.email \
                     AND m.member_verified = (u.email_verified_at IS NOT NULL) AND m.member_two_factor = u.two_factor";
    assert_eq!(db.count(copied), 31);
    assert_eq!(db.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND expires_at > now()"), 20);
    assert_eq!(db.count("SELECT count(*) FROM teams"), 3);
    assert_eq!(db.count("SELECT count(*) FROM projects"), 2);
    assert_eq!(db.count("SELECT count(DISTINCT team_id) FROM team_members"), 3, "every team has members");
    assert_eq!(db.count("SELECT count(DISTINCT project_id) FROM project_grants"), 2, "every project is granted");
    // The history that would have made them, as the Audit Log shows it.
    assert_eq!(db.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted'"), 30);
    // Each by the member who joined, when they joined.
    let joined = "SELECT count(*) FROM audit_events a JOIN memberships m ON m.user_id = a.actor_id \
                   WHERE a.action = 'invitation.accepted' AND a.created_at = m.created_at \
                     AND a.actor_label = m.member_name || ' <' || m.member_email || '>'";
    assert_eq!(db.count(joined), 30);
    assert_eq!(db.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.created'"), 20);
    // Realistic dates: members joined over months, not all at this moment.
    assert!(db.count("SELECT count(DISTINCT created_at::date) FROM memberships") > 10);

    // A smaller load keeps the indexes and adds to them.
    let out = roster(&db.url, &["generate", "--org", "acme", "--members", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(db.count(copied), 36);
    assert_eq!(db.count(index), made, "the same search index, added to");
    assert_eq!(schema_of(&db), schema);
}

/// Every index and constraint of the database as PostgreSQL prints it, with the
/// foreign keys not yet checked marked.
fn schema_of(db: &TestDb) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    diesel::sql_query(
        "SELECT indexname || ': ' || indexdef AS line FROM pg_indexes WHERE schemaname = 'public' \
         UNION ALL \
         SELECT conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) \
                || CASE WHEN convalidated THEN '' ELSE ' (not checked)' END \
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .load::<Line>(&mut db.conn())
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect()
}

#[tokio::test]
async fn the_operator_creates_lists_and_revokes_an_api_key_whose_secret_alone_is_printed() {
    let app = crate::common::spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let db = app.db.url.clone();
    let run = |args: Vec<String>| {
        let db = db.clone();
        async move {
            tokio::task::spawn_blocking(move || roster(&db, &args.iter().map(String::as_str).collect::<Vec<_>>()))
                .await
                .unwrap()
        }
    };
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    let out = run(args(&[
        "api-key",
        "create",
        "--org",
        &slug,
        "--name",
        "HR sync",
        "--scopes",
        "members:read,invitations:write",
        "--role",
        "member",
    ]))
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.starts_with("roster_") && !secret.contains(' '), "standard output is the secret alone: {secret:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Created the API key “HR sync”"));
    let response = reqwest::Client::new().get(app.url("/api/v1/members")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK, "the secret works");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'api_key.created' AND actor_label = 'Operator (roster api-key create)'"),
        1
    );

    let out = run(args(&["api-key", "list", "--org", &slug])).await;
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(listed.contains("HR sync\tMember\tmembers:read,invitations:write\tlive\tcreated by Operator"), "{listed}");
    assert!(!listed.contains(&secret));

    // Bad input says which flag, and changes nothing.
    for (bad, said) in [
        (vec!["--name", "HR sync", "--scopes", "members:read"], "--name: A key called “HR sync” exists already"),
        (vec!["--name", "CI", "--scopes", "everything"], "--scopes: “everything” is not a scope"),
        (vec!["--name", "CI", "--scopes", "members:read", "--role", "owner"], "--role: \"owner\" is not a key's role"),
    ] {
        let mut list = args(&["api-key", "create", "--org", &slug]);
        list.extend(bad.iter().map(|s| (*s).to_owned()));
        let out = run(list).await;
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(said), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(app.count("SELECT count(*) FROM api_keys"), 1);

    let out = run(args(&["api-key", "revoke", "--org", &slug, "--name", "hr SYNC"])).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let response = reqwest::Client::new().get(app.url("/api/v1/members")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED, "revoked at once");
    let out = run(args(&["api-key", "revoke", "--org", &slug, "--name", "HR sync"])).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("Acme has no live API key called “HR sync”"));
    let out = run(args(&["api-key", "list", "--org", "nowhere"])).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization is at /orgs/nowhere"));
}
