// @generated automatically by Diesel CLI.

diesel::table! {
    api_idempotency (api_key_id, idempotency_key) {
        api_key_id -> Uuid,
        idempotency_key -> Text,
        request_hash -> Bytea,
        status_code -> Nullable<Int4>,
        body -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        scopes -> Array<Text>,
        secret_hint -> Text,
        secret_hash -> Bytea,
        created_by -> Nullable<Uuid>,
        creator_name -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Text>,
        role -> Text,
    }
}

diesel::table! {
    authenticator_apps (user_id) {
        user_id -> Uuid,
        secret_sealed -> Bytea,
        secret_sealed_with -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamptz>,
        last_used_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        organization_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        actor_label -> Text,
        action -> Text,
        target_label -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
        created_at -> Timestamptz,
        seq -> Int8,
        batch_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    bell_versions (user_id) {
        user_id -> Uuid,
        version -> Int8,
        unread -> Int8,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        email -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        organization_id -> Uuid,
        email -> Text,
        role -> Text,
        status -> Text,
        token_nonce -> Bytea,
        token_hash -> Bytea,
        invited_by -> Nullable<Uuid>,
        inviter_name -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        last_sent_at -> Timestamptz,
        send_count -> Int4,
        responded_at -> Nullable<Timestamptz>,
        responded_by -> Nullable<Uuid>,
        link_copied_at -> Nullable<Timestamptz>,
        email_key -> Text,
        membership_expires_at -> Nullable<Timestamptz>,
        reminded_at -> Nullable<Timestamptz>,
        expiry_told_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    expired_access (id) {
        id -> Uuid,
        organization_id -> Uuid,
        membership_id -> Uuid,
        team_id -> Nullable<Uuid>,
        project_id -> Nullable<Uuid>,
        grade -> Text,
        expired_at -> Timestamptz,
    }
}

diesel::table! {
    invitation_grants (id) {
        id -> Uuid,
        organization_id -> Uuid,
        invitation_id -> Uuid,
        team_id -> Nullable<Uuid>,
        project_id -> Nullable<Uuid>,
        name -> Text,
        level -> Nullable<Text>,
        is_team -> Bool,
    }
}

diesel::table! {
    jobs (id) {
        id -> Uuid,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        run_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    memberships (id) {
        id -> Uuid,
        organization_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
        member_name -> Text,
        member_email -> Text,
        member_verified -> Bool,
        invited_by -> Nullable<Uuid>,
        last_active_at -> Nullable<Timestamptz>,
        member_two_factor -> Text,
        suspended_at -> Nullable<Timestamptz>,
        scim_managed -> Bool,
        scim_external_id -> Nullable<Text>,
        scim_profile -> Jsonb,
        scim_updated_at -> Nullable<Timestamptz>,
        consent_pending -> Bool,
        expires_at -> Nullable<Timestamptz>,
        expiry_set_by -> Nullable<Uuid>,
        expiry_reminded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        recipient_id -> Uuid,
        kind -> Text,
        organization_id -> Nullable<Uuid>,
        subject_id -> Nullable<Uuid>,
        payload -> Jsonb,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        seq -> Int8,
    }
}

diesel::table! {
    organization_domains (id) {
        id -> Uuid,
        organization_id -> Uuid,
        domain -> Text,
        token -> Text,
        created_at -> Timestamptz,
        verified_at -> Nullable<Timestamptz>,
        last_checked_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
        policy -> Text,
        sso -> Bool,
        sso_required -> Bool,
    }
}

diesel::table! {
    organization_former_slugs (slug) {
        slug -> Text,
        organization_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        seat_limit -> Int4,
        created_at -> Timestamptz,
        member_count -> Int4,
        pending_count -> Int4,
        two_factor_required_from -> Nullable<Timestamptz>,
        suspended_count -> Int4,
        scim_enabled -> Bool,
        expiry_reminder_days -> Int4,
        invitation_reminders -> Bool,
        open_join_requests -> Int4,
        join_requests_waiting -> Bool,
        access_history_since -> Nullable<Timestamptz>,
        lapsed_through -> Timestamptz,
        lapsed_count -> Int4,
        never_active_count -> Int4,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        to_address -> Text,
        subject -> Text,
        text_body -> Nullable<Text>,
        html_body -> Nullable<Text>,
        status -> Text,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        to_name -> Nullable<Text>,
        sealed_body -> Nullable<Bytea>,
        sealed_with -> Nullable<Text>,
    }
}

diesel::table! {
    project_grants (id) {
        id -> Uuid,
        organization_id -> Uuid,
        project_id -> Uuid,
        team_id -> Nullable<Uuid>,
        membership_id -> Nullable<Uuid>,
        level -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        expiry_set_by -> Nullable<Uuid>,
        expiry_reminded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    projects (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        slug -> Text,
        description -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        window_started_at -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    passkey_ceremonies (id) {
        id -> Uuid,
        kind -> Text,
        user_id -> Nullable<Uuid>,
        state -> Jsonb,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Uuid,
        user_id -> Uuid,
        credential_id -> Bytea,
        name -> Text,
        credential -> Jsonb,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    recovery_codes (user_id, digest) {
        user_id -> Uuid,
        digest -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    scim_requests (id) {
        id -> Uuid,
        organization_id -> Uuid,
        api_key_id -> Nullable<Uuid>,
        at -> Timestamptz,
        operation -> Text,
        subject -> Text,
        status -> Int4,
        detail -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Nullable<Uuid>,
        state -> Jsonb,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        public_id -> Uuid,
        user_agent -> Text,
        ip_address -> Text,
        last_seen_at -> Timestamptz,
        sign_in_methods -> Array<Text>,
    }
}

diesel::table! {
    team_members (team_id, membership_id) {
        organization_id -> Uuid,
        team_id -> Uuid,
        membership_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        expiry_set_by -> Nullable<Uuid>,
        expiry_reminded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sso_connections (organization_id) {
        organization_id -> Uuid,
        issuer -> Text,
        client_id -> Text,
        client_secret_sealed -> Bytea,
        client_secret_sealed_with -> Text,
        metadata -> Nullable<Jsonb>,
        metadata_fetched_at -> Nullable<Timestamptz>,
        jwks -> Nullable<Jsonb>,
        jwks_fetched_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sso_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
    }
}

diesel::table! {
    sso_sign_ins (state_hash) {
        state_hash -> Bytea,
        organization_id -> Uuid,
        email -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    teams (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        slug -> Text,
        description -> Text,
        created_at -> Timestamptz,
        scim_managed -> Bool,
        scim_external_id -> Nullable<Text>,
        updated_at -> Nullable<Timestamptz>,
        member_count -> Int4,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        name -> Text,
        email -> Text,
        email_verified_at -> Nullable<Timestamptz>,
        password_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        email_key -> Text,
        two_factor -> Text,
        provisioned_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event -> Text,
        body -> Text,
        created_at -> Timestamptz,
        attempts -> Int4,
        last_attempt_at -> Nullable<Timestamptz>,
        status_code -> Nullable<Int4>,
        duration_ms -> Nullable<Int4>,
        response_excerpt -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        state -> Text,
        seq -> Int8,
        next_attempt_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        organization_id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        secret_sealed -> Bytea,
        secret_hint -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
        created_by -> Nullable<Uuid>,
        creator_name -> Text,
        created_at -> Timestamptz,
        secret_unreadable_since -> Nullable<Timestamptz>,
        secret_sealed_with -> Nullable<Text>,
    }
}

diesel::table! {
    invite_links (id) {
        id -> Uuid,
        organization_id -> Uuid,
        label -> Text,
        token_nonce -> Bytea,
        token_hash -> Bytea,
        role -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        max_uses -> Nullable<Int4>,
        uses -> Int4,
        allowed_domains -> Array<Text>,
        requires_approval -> Bool,
        disabled_at -> Nullable<Timestamptz>,
        disabled_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    invite_link_grants (id) {
        id -> Uuid,
        organization_id -> Uuid,
        invite_link_id -> Uuid,
        team_id -> Nullable<Uuid>,
        project_id -> Nullable<Uuid>,
        name -> Text,
        level -> Nullable<Text>,
        is_team -> Bool,
    }
}

diesel::table! {
    invite_link_uses (id) {
        id -> Uuid,
        invite_link_id -> Uuid,
        user_id -> Nullable<Uuid>,
        name -> Text,
        email -> Text,
        outcome -> Text,
        used_at -> Timestamptz,
    }
}

diesel::table! {
    join_requests (id) {
        id -> Uuid,
        organization_id -> Uuid,
        user_id -> Uuid,
        email -> Text,
        note -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
        role -> Nullable<Text>,
        reason -> Nullable<Text>,
        invite_link_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    team_place_history (id) {
        id -> Int8,
        organization_id -> Uuid,
        team_id -> Uuid,
        team_name -> Text,
        team_slug -> Text,
        membership_id -> Uuid,
        user_id -> Uuid,
        member_name -> Text,
        member_email -> Text,
        role -> Text,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    grant_history (id) {
        id -> Int8,
        organization_id -> Uuid,
        grant_id -> Uuid,
        project_id -> Uuid,
        project_name -> Text,
        project_slug -> Text,
        team_id -> Nullable<Uuid>,
        team_name -> Nullable<Text>,
        membership_id -> Nullable<Uuid>,
        user_id -> Nullable<Uuid>,
        member_name -> Nullable<Text>,
        member_email -> Nullable<Text>,
        level -> Text,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    suspension_history (id) {
        id -> Int8,
        organization_id -> Uuid,
        membership_id -> Uuid,
        user_id -> Uuid,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(api_idempotency -> api_keys (api_key_id));
diesel::joinable!(authenticator_apps -> users (user_id));
diesel::joinable!(passkey_ceremonies -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(api_keys -> organizations (organization_id));
diesel::joinable!(api_keys -> users (created_by));
diesel::joinable!(audit_events -> organizations (organization_id));
diesel::joinable!(audit_events -> users (actor_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(expired_access -> memberships (membership_id));
diesel::joinable!(invitations -> organizations (organization_id));
diesel::joinable!(invite_links -> organizations (organization_id));
diesel::joinable!(invite_link_uses -> invite_links (invite_link_id));
diesel::joinable!(join_requests -> organizations (organization_id));
diesel::joinable!(join_requests -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(notifications -> organizations (organization_id));
diesel::joinable!(notifications -> users (recipient_id));
diesel::joinable!(organization_domains -> organizations (organization_id));
diesel::joinable!(organization_former_slugs -> organizations (organization_id));
diesel::joinable!(projects -> organizations (organization_id));
diesel::joinable!(bell_versions -> users (user_id));
diesel::joinable!(scim_requests -> organizations (organization_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sso_connections -> organizations (organization_id));
diesel::joinable!(sso_identities -> users (user_id));
diesel::joinable!(sso_sign_ins -> organizations (organization_id));
diesel::joinable!(teams -> organizations (organization_id));

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_endpoints -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_idempotency,
    api_keys,
    audit_events,
    authenticator_apps,
    bell_versions,
    email_tokens,
    expired_access,
    grant_history,
    invitation_grants,
    invitations,
    invite_link_grants,
    invite_link_uses,
    invite_links,
    jobs,
    join_requests,
    memberships,
    notifications,
    organization_domains,
    organization_former_slugs,
    organizations,
    outbox,
    passkey_ceremonies,
    passkeys,
    project_grants,
    projects,
    rate_limits,
    recovery_codes,
    scim_requests,
    sessions,
    sso_connections,
    sso_identities,
    sso_sign_ins,
    suspension_history,
    team_members,
    team_place_history,
    teams,
    users,
    webhook_deliveries,
    webhook_endpoints,
);
