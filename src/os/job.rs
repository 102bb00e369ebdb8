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

    /// Starts `command` inside the Job: created suspended, put in the Job, then resumed, so
    /// that nothing it starts can be created before it is in the Job (and so escape it).
    pub fn spawn(&self, command: &mut std::process::Command) -> io::Result<std::process::Child> {
        use std::os::windows::process::CommandExt;
        command.creation_flags(windows_sys::Win32::System::Threading::CREATE_SUSPENDED);
        let mut child = command.spawn()?;
        if let Err(e) = self.assign(&child).and_then(|()| resume(child.id())) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok(child)
    }

    /// Puts `child` (and whatever it starts from now on) in the Job.
    fn assign(&self, child: &std::process::Child) -> io::Result<()> {
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

/// Resumes the threads of process `pid` (one, for a process created suspended).
fn resume(pid: u32) -> io::Result<()> {
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
    };
    use windows_sys::Win32::System::Threading::{OpenThread, ResumeThread, THREAD_SUSPEND_RESUME};
    // SAFETY: a snapshot and thread handles owned here and closed; a zeroed THREADENTRY32 with
    // its size set is what Thread32First expects.
    unsafe {
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        if snapshot.is_null() || snapshot == windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let mut entry: THREADENTRY32 = std::mem::zeroed();
        entry.dwSize = std::mem::size_of::<THREADENTRY32>() as u32;
        let mut resumed = 0u32;
        let mut more = Thread32First(snapshot, &mut entry) != 0;
        while more {
            if entry.th32OwnerProcessID == pid {
                let thread = OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID);
                if !thread.is_null() {
                    if ResumeThread(thread) != u32::MAX {
                        resumed = resumed.saturating_add(1);
                    }
                    CloseHandle(thread);
                }
            }
            more = Thread32Next(snapshot, &mut entry) != 0;
        }
        CloseHandle(snapshot);
        if resumed == 0 {
            return Err(io::Error::other("cannot resume the command's thread"));
        }
    }
    Ok(())
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: closes the handle this value owns.
        unsafe { CloseHandle(self.0) };
    }
}
