use super::Messages;
use crate::patients::VisitState;
use crate::rooms::{RoomKind, RoomStatus};
use crate::staff::StaffRole;
use chrono::Datelike;

pub static MESSAGES: Messages = Messages {
    app_name: "Plateau",
    tagline: "Plateau technique de la clinique",
    skip_to_content: "Aller au contenu",
    main_navigation: "Navigation principale",
    nav_rooms: "Salles",
    nav_board: "Tableau",
    nav_lab: "Laboratoire",
    nav_escort: "Demandes d’accompagnement",
    language: "Langue",
    loading: "Chargement…",

    rooms_title: "Salles",
    rooms_empty: "Aucune salle pour l’instant. Un administrateur les ajoute ; `plateau seed-demo` charge une clinique de démonstration.",
    room_free: "Aucun patient",
    room_open: "Ouvrir la salle",
    back_to_rooms: "Retour aux salles",
    status_since: |time| format!("depuis {time}"),
    for_duration: |minutes| {
        if minutes < 60 {
            format!("{minutes} min")
        } else {
            format!("{} h {:02}", minutes / 60, minutes % 60)
        }
    },
    record_number: "IPP",
    born_on: |date, age| format!("né(e) le {date} ({age} ans)"),
    visit_reason: "Motif de la visite",
    arrived_at: |time| format!("arrivé(e) à {time}"),
    visit_state_label: "Visite",

    board_title: "Tableau",
    waiting_title: "En attente",
    waiting_empty: "Personne n’attend.",
    staff_title: "Personnel",
    staff_empty: "Aucun membre du personnel enregistré.",

    lab_title: "Laboratoire",
    escort_title: "Demandes d’accompagnement",
    not_yet_available: "Cette partie de Plateau n’est pas encore disponible dans cette version.",

    not_found_title: "Page introuvable",
    not_found_body: "Il n’y a rien à cette adresse. Vérifiez le lien ou revenez aux salles.",
    go_to_rooms: "Aller aux salles",

    error_title: "Un problème est survenu",
    retry: "Réessayer",
    error_malformed: "La demande est illisible. Rien n’a été modifié.",
    error_not_found: "Cet élément n’existe pas ou n’existe plus.",
    error_conflict: "Quelqu’un a modifié ceci au même moment. L’écran affiche la dernière version ; vérifiez et recommencez.",
    error_unavailable: "La base de données ne répond pas. Rien n’a été modifié ; réessayez dans un instant.",
    error_internal: "Une erreur inattendue s’est produite. Rien n’a été modifié. Si cela se reproduit, prévenez votre administrateur.",
    error_network: "Le serveur est injoignable. Vérifiez le Wi-Fi ; Plateau va réessayer.",
    problem_required: "obligatoire",
    problem_too_long: "trop long",
    problem_not_allowed: "valeur non autorisée",
    problem_malformed: "format inattendu",
    problem_already_taken: "déjà utilisé",

    date: |date| format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year()),
    room_kind: |kind| match kind {
        RoomKind::Exam => "Salle d’examen",
        RoomKind::Procedure => "Salle de soins",
        RoomKind::Lab => "Laboratoire",
        RoomKind::Imaging => "Imagerie",
    },
    room_status: |status| match status {
        RoomStatus::Closed => "Fermée",
        RoomStatus::Housekeeping => "Nettoyage",
        RoomStatus::Isolated => "Isolement",
        RoomStatus::Contaminated => "Contaminée",
        RoomStatus::Occupied => "Occupée",
        RoomStatus::Unoccupied => "Disponible",
    },
    visit_state: |state| match state {
        VisitState::Waiting => "Attend d’être vu(e)",
        VisitState::InExam => "En consultation",
        VisitState::Queued => "Attend le plateau technique",
        VisitState::InProcedure => "En soin",
        VisitState::Done => "Parti(e)",
    },
    staff_role: |role| match role {
        StaffRole::MedicalAssistant => "Assistant(e) médical(e)",
        StaffRole::Nurse => "Infirmier(ère)",
        StaffRole::Phlebotomist => "Préleveur(se)",
        StaffRole::LabTechnician => "Technicien(ne) de laboratoire",
        StaffRole::Physician => "Médecin",
        StaffRole::Supervisor => "Superviseur(e)",
        StaffRole::FrontDesk => "Accueil",
        StaffRole::Administrator => "Administrateur(rice)",
    },
};
