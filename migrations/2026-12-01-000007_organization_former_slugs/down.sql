DROP TABLE organization_former_slugs;
