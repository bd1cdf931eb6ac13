//! What a run says about what it did, in one place: operations return what happened (a
//! `status::Status`, a `flow::Outcome`, an `init::Written`) and this turns it into the text a person reads or the JSON a
//! script reads. Nothing here decides anything or touches a file; every outside string is
//! made printable here, on its way out.

pub mod init;
pub mod logout;
pub mod outcome;
pub mod status;
