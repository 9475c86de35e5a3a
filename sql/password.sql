-- csms_generate_random_password: lengths, character classes, exclusions,
-- required types, and a distribution check that catches gross bias.
\set VERBOSITY terse

SELECT length(csms_generate_random_password()) AS default_len;
SELECT length(csms_generate_random_password(8)) AS min_len;
SELECT length(csms_generate_random_password(4096)) AS max_len;
SELECT try($$SELECT csms_generate_random_password(7)$$);
SELECT try($$SELECT csms_generate_random_password(4097)$$);
SELECT try($$SELECT csms_generate_random_password(-1)$$);
SELECT length(csms_generate_random_password(NULL)) AS null_is_default;

-- two passwords differ
SELECT csms_generate_random_password() <> csms_generate_random_password() AS differ;

-- classes: by default lower, upper, digits and punctuation, no space
SELECT bool_and(p ~ '^[a-zA-Z0-9!"#$%&''()*+,./:;<=>?@\[\\\]^_`{|}~-]+$') AS charset_ok,
       bool_or(p ~ '[a-z]') AND bool_or(p ~ '[A-Z]') AND bool_or(p ~ '[0-9]') AND bool_or(p ~ '[^a-zA-Z0-9]') AS all_classes_seen,
       bool_and(p !~ ' ') AS no_space
  FROM (SELECT csms_generate_random_password(64) p FROM generate_series(1, 50)) s;
SELECT bool_and(p ~ '^[0-9]+$') AS digits_only
  FROM (SELECT csms_generate_random_password(32, exclude_lowercase => true, exclude_uppercase => true,
		exclude_punctuation => true) p FROM generate_series(1, 50)) s;
SELECT bool_and(p ~ '^[a-z]+$') AS lower_only
  FROM (SELECT csms_generate_random_password(32, exclude_numbers => true, exclude_uppercase => true,
		exclude_punctuation => true) p FROM generate_series(1, 50)) s;
SELECT bool_or(p ~ ' ') AS space_seen
  FROM (SELECT csms_generate_random_password(64, include_space => true) p FROM generate_series(1, 50)) s;
SELECT bool_and(p ~ '^[a-c]+$') AS excluded_chars_absent
  FROM (SELECT csms_generate_random_password(16, exclude_characters => 'defghijklmnopqrstuvwxyz',
		exclude_uppercase => true, exclude_numbers => true, exclude_punctuation => true) p
	FROM generate_series(1, 50)) s;
SELECT csms_generate_random_password(8, exclude_characters => '0123456789', exclude_lowercase => true,
	exclude_uppercase => true, exclude_punctuation => true, include_space => true) AS spaces_only;

-- nothing left to choose from
SELECT try($$SELECT csms_generate_random_password(exclude_lowercase => true, exclude_uppercase => true,
	exclude_numbers => true, exclude_punctuation => true)$$);
SELECT try($$SELECT csms_generate_random_password(exclude_characters => '0123456789',
	exclude_lowercase => true, exclude_uppercase => true, exclude_punctuation => true)$$);

-- require each included type: every password holds every type
SELECT bool_and(p ~ '[a-z]' AND p ~ '[A-Z]' AND p ~ '[0-9]' AND p ~ '[^a-zA-Z0-9 ]' AND p ~ ' ') AS each_type
  FROM (SELECT csms_generate_random_password(8, include_space => true, require_each_included_type => true) p
	FROM generate_series(1, 200)) s;
-- a class emptied by exclude_characters is not required
SELECT bool_and(p ~ '^[a-zA-Z]+$') AS letters_only
  FROM (SELECT csms_generate_random_password(8, exclude_characters => '0123456789', exclude_punctuation => true,
		require_each_included_type => true) p FROM generate_series(1, 50)) s;

-- uniformity: 64,000 digits, each expected 6,400 times; a fair generator
-- stays within 10% (about 8 standard deviations)
SELECT bool_and(n BETWEEN 5760 AND 7040) AS digits_uniform, count(*) AS digits_seen
  FROM (SELECT d, count(*) n
		  FROM (SELECT regexp_split_to_table(csms_generate_random_password(64, exclude_lowercase => true,
					exclude_uppercase => true, exclude_punctuation => true), '') d
				  FROM generate_series(1, 1000)) s
		 GROUP BY d) c;
-- all 32 punctuation characters appear
SELECT count(DISTINCT c) AS punctuation_seen
  FROM (SELECT regexp_split_to_table(csms_generate_random_password(4096, exclude_lowercase => true,
			exclude_uppercase => true, exclude_numbers => true), '') c) s;
