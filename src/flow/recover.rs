//! Tokens an earlier run could not save (see `recovery`): before a run uses the file's
//! tokens, it looks for them, and puts them into the file when the user says so (or with
//! `--recover`). The file's refresh token may already be spent, and presenting a spent one
//! can get the whole grant revoked.

use super::Ctx;
use super::outcome::{Happened, Outcome};
use super::store;
use crate::error::{FileError, Result};
use crate::project::Project;
use crate::recovery::{self, Recovery};

impl Ctx<'_> {
    /// `Some`: tokens set aside were saved into the file. `None`: there were none to use,
    /// and the run goes on as usual.
    pub(super) async fn recovered(&self) -> Result<Option<Outcome>> {
        let name = &self.opts.test_account;
        // Mostly there are none, and a look needs no lock: a run that sets some aside
        // meanwhile is caught under the lock of the request itself (refuse_if_set_aside).
        let real = std::fs::canonicalize(&self.opts.config).unwrap_or(self.opts.config.clone());
        if !self.opts.recover && recovery::find(&real, name, &*self.deps.env).is_empty() {
            return Ok(None);
        }
        // Under the lock: a run that saves (or fails to) first is done with the file.
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        let mut found = recovery::find(project.real_path(), name, &*self.deps.env);
        if found.is_empty() {
            if self.opts.recover {
                return Err(FileError::NothingToRecover {
                    test_account: name.clone(),
                    path: self.opts.config.clone(),
                }
                .into());
            }
            return Ok(None);
        }
        let newest = found.remove(0);
        if !newest.fits(project.test_account(name)) {
            let stale = FileError::RecoveryStale {
                recovery: newest.path.clone(),
                test_account: name.clone(),
            };
            if self.opts.recover {
                return Err(stale.into());
            }
            self.deps.terminal.warn(&format!(
                "{stale}; delete it once you are sure the file's tokens work"
            ));
            return Ok(None);
        }
        if !self.opts.recover && !self.agreed(&newest)? {
            return Ok(None);
        }
        project.check_save(name)?;
        project.save_test_account(name, &newest.account)?;
        if let Err(e) = newest.discard() {
            self.deps.terminal.warn(&format!(
                "the tokens are in the file now, but {} could not be removed ({e}); delete it",
                newest.path.display()
            ));
        }
        let saved_at = newest.saved_at.clone();
        let happened = Happened::Recovered { saved_at };
        Ok(Some(store::outcome(
            self,
            &project,
            name,
            &newest.account,
            happened,
        )))
    }

    /// Inside the lock, just before a token request from the file's tokens: tokens another
    /// run set aside since this one started are newer than the file's, whose refresh token
    /// may be spent. Stop rather than present it.
    pub(super) fn refuse_if_set_aside(&self, project: &Project) -> Result<()> {
        let name = &self.opts.test_account;
        let current = project.test_account(name);
        match recovery::find(project.real_path(), name, &*self.deps.env)
            .into_iter()
            .find(|r| r.fits(current))
        {
            Some(found) => Err(FileError::RecoveryPending {
                recovery: found.path,
                retry: self.opts.command_for(name, "--recover"),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Whether to put the tokens into the file now. A new login (`--reauth`) needs none of
    /// them; anything else would use the file's possibly spent tokens, so without a person
    /// to ask the run stops and says how to recover.
    fn agreed(&self, found: &Recovery) -> Result<bool> {
        let pending = FileError::RecoveryPending {
            recovery: found.path.clone(),
            retry: self.opts.command_for(&self.opts.test_account, "--recover"),
        };
        if self.opts.reauth {
            self.deps.terminal.warn(&format!(
                "{pending}; the new login replaces them (delete {} afterwards)",
                found.path.display()
            ));
            return Ok(false);
        }
        if !self.deps.terminal.interactive() {
            return Err(pending.into());
        }
        let choice = self.deps.terminal.choose(
            &format!(
                "Tokens for test account \"{}\" that an earlier run could not save (at {}) are in {}. \
                 Save them into the file now?",
                crate::redact::printable(&self.opts.test_account),
                crate::redact::printable(&found.saved_at),
                found.path.display()
            ),
            &[
                "Yes, save them into the file".into(),
                "No, stop here".into(),
            ],
        )?;
        match choice {
            0 => Ok(true),
            _ => Err(pending.into()),
        }
    }
}
