//! Windows Job objects: a process put in one is killed when the Job's last handle closes,
//! which is when creds exits, however it exits (`JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`); and
//! the processes it starts are in it too, so a command's whole tree ends together.

use std::io;
use std::os::windows::io::AsRawHandle;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_BREAKAWAY_OK, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};

pub struct Job(HANDLE);

// SAFETY: a Job handle may be used from any thread.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    /// A Job whose processes are killed when it closes; processes started with
    /// `CREATE_BREAKAWAY_FROM_JOB` (background renewals) may leave it.
    pub fn kill_on_close() -> io::Result<Job> {
        // SAFETY: no attributes, no name.
        let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        let job = Job(handle);
        job.set_limits(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK)?;
        Ok(job)
    }

    fn set_limits(&self, flags: u32) -> io::Result<()> {
        // SAFETY: a zeroed structure is valid; only the limit flags are set.
        let ok = unsafe {
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            info.BasicLimitInformation.LimitFlags = flags;
            SetInformationJobObject(
                self.0,
                JobObjectExtendedLimitInformation,
                (&info as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Puts `child` (and whatever it starts from now on) in the Job.
    pub fn assign(&self, child: &std::process::Child) -> io::Result<()> {
        // SAFETY: both handles are open for the duration of the call.
        let ok = unsafe { AssignProcessToJobObject(self.0, child.as_raw_handle() as HANDLE) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Ends every process in the Job.
    pub fn terminate(&self) {
        // SAFETY: an open Job handle.
        unsafe { TerminateJobObject(self.0, 1) };
    }

    /// Lets the processes left in the Job outlive it (a command that finished normally may
    /// leave a background child, as on Unix).
    pub fn release(&self) {
        let _ = self.set_limits(JOB_OBJECT_LIMIT_BREAKAWAY_OK);
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: closes the handle this value owns.
        unsafe { CloseHandle(self.0) };
    }
}
