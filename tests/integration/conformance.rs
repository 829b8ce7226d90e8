//! The item-store conformance suite, against each adapter.

mod embedded {
    soraaya_store::conformance_cases!(async { Some(soraaya_tests::embedded_store()) });
}

mod dynamodb {
    soraaya_store::conformance_cases!(soraaya_tests::dynamodb_store(
        soraaya_store::conformance::TABLES
    ));
}
